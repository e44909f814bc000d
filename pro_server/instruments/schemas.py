from marshmallow import Schema, fields, validate

from pro_server.validation import LANGUAGES


class InstrumentSummarySchema(Schema):
    code = fields.String()
    version = fields.String()
    title = fields.String()
    languages = fields.Dict(keys=fields.String(), values=fields.Dict())
    score_keys = fields.List(fields.String())


class DefinitionArgsSchema(Schema):
    lang = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    version = fields.String()


class ScoreRequestSchema(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    version = fields.String()


class ScoreValueSchema(Schema):
    value = fields.Raw(allow_none=True)
    value_text = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    detail = fields.Dict()


class ScoreResultSchema(Schema):
    instrument = fields.String()
    instrument_version = fields.String()
    algorithm = fields.String()
    algorithm_version = fields.String()
    scores = fields.Dict(keys=fields.String(), values=fields.Nested(ScoreValueSchema))


class LanguageApprovalSchema(Schema):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    reason = fields.String(required=True, validate=validate.Length(min=10, max=500))


class LanguageStatusSchema(Schema):
    language = fields.String()
    unvalidated_instruments = fields.List(fields.String())
    approved = fields.Boolean()
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
