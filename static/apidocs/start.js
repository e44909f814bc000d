// Swagger UI over this service's OpenAPI document. A file, not an inline script, so the
// docs page runs under the same Content-Security-Policy as every other page.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui" });
