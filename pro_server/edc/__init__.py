"""Scored data out to EDC systems: the pull API, ODM, CSV, SDTM, Define-XML, REDCap and FHIR."""
