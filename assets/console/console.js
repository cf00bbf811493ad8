// The console's small amount of client script (pages work without it): JSON editors are
// checked as they are typed, so a syntax error shows before the form is sent.
for (const area of document.querySelectorAll("textarea.code")) {
  area.addEventListener("input", () => {
    if (area.value.trim() === "") return area.setCustomValidity("");
    try {
      JSON.parse(area.value);
      area.setCustomValidity("");
    } catch (err) {
      area.setCustomValidity(`not valid JSON: ${err.message}`);
    }
    area.reportValidity();
  });
}
