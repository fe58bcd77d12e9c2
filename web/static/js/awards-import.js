// Import a decision's recipients from a CSV or XLSX file: check it first (every problem
// with its row), then import all, or only the valid rows (as the delegates' import does).

import { t } from "./page.js";
import { base, reason } from "./awards-common.js";
import { SpreadsheetImport, chosenFile } from "./import-report.js";

const form = document.getElementById("import-awards");
const decision = document.getElementById("import-awards-decision");
const decisionError = document.getElementById("import-awards-decision-error");
const fileInput = document.getElementById("import-awards-file");
const sheet = new SpreadsheetImport(form, {
  row: "js.awards.import.row",
  omitted: "js.awards.import.omitted",
  ignored: "js.awards.import.ignored",
  working: "js.awards.import.working",
  checked: "js.awards.import.checked",
  done: "js.awards.import.done",
  refused: "js.awards.import.refused",
  failed: "js.awards.import.failed",
});
const say = (message, isError) => sheet.say(message, isError);
const options = { onImported: () => {} };

function refuse(input, box, message) {
  input.setAttribute("aria-invalid", "true");
  if (box) {
    box.textContent = message;
    box.hidden = false;
  }
  say(message, true);
  input.focus();
}

/** Import into this decision next: chosen in the form, focus on the file. */
export function chooseImportDecision(id) {
  decision.value = id;
  decision.removeAttribute("aria-invalid");
  decisionError.hidden = true;
  sheet.clearReport();
  say("");
  fileInput.scrollIntoView({ block: "center" });
  fileInput.focus({ preventScroll: true });
}

// A new choice of file or decision needs a new check.
for (const input of [decision, fileInput]) {
  input.addEventListener("change", () => {
    input.removeAttribute("aria-invalid");
    if (input === decision) decisionError.hidden = true;
    sheet.clearReport();
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const mode = event.submitter?.dataset.mode ?? "check";
  if (!decision.value) {
    refuse(decision, decisionError, t("js.awards.decision.required"));
    return;
  }
  const file = chosenFile(fileInput, say, t("js.awards.import.no_file"));
  if (!file) return;
  await sheet.send(`${base}/decisions/${encodeURIComponent(decision.value)}/import`, file, mode, {
    failed: (error, status) => reason(error, status),
    onImported: (count) => options.onImported(decision.value, count),
  });
});

/** onImported(decisionId, count) runs after rows were imported. */
export function setupImport({ onImported }) {
  options.onImported = onImported;
}
