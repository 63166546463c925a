// Label queue keys: y = the first unlabeled row is right, n = it is wrong.
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const cls = { y: ".label-yes", n: ".label-no" }[event.key];
  if (!cls) return;
  const button = document.querySelector(`.queue-row ${cls}`);
  if (button) { event.preventDefault(); button.click(); }
});
