// Progressive enhancement only: every action works without this file.
// "Select all rows on this page" toggles the row checkboxes of the queue table.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-page");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll("input.pick")) box.checked = all.checked;
  });
});
