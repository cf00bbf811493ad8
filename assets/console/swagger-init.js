// Starts Swagger UI (assets/vendor/swagger-ui-dist, pinned in package.json) on the spec URL the
// page names; a file rather than an inline script so the page's CSP needs no 'unsafe-inline'.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
