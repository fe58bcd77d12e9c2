// Import a decision's recipients from a CSV or XLSX file: check it first (every problem
// with its row), then import all, or only the valid rows (as the delegates' import does).

import { t } from "./page.js";
import { base, reason, sendRaw } from "./awards-common.js";
import { mediaType, showImportReport } from "./import-report.js";

const form = document.getElementById("import-awards");
const decision = document.getElementById("import-awards-decision");
const decisionError = document.getElementById("import-awards-decision-error");
const fileInput = document.getElementById("import-awards-file");
const status = document.getElementById("import-awards-status");
const report = document.getElementById("import-awards-report");
const problems = document.getElementById("import-awards-problems");
const ignored = document.getElementById("import-awards-ignored");
const validOnly = form.querySelector('[data-mode="valid"]');
const options = { onImported: () => {} };

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("is-error", isError);
}

const reportParts = { report, problems, ignored, validOnly };
const reportKeys = {
  row: "js.awards.import.row",
  omitted: "js.awards.import.omitted",
  ignored: "js.awards.import.ignored",
};

function showReport(data) {
  showImportReport(reportParts, data, reportKeys);
}

function clearReport() {
  report.hidden = true;
  validOnly.hidden = true;
  problems.replaceChildren();
}

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
  clearReport();
  say("");
  fileInput.scrollIntoView({ block: "center" });
  fileInput.focus({ preventScroll: true });
}

// A new choice of file or decision needs a new check.
for (const input of [decision, fileInput]) {
  input.addEventListener("change", () => {
    input.removeAttribute("aria-invalid");
    if (input === decision) decisionError.hidden = true;
    clearReport();
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const mode = event.submitter?.dataset.mode ?? "check";
  if (!decision.value) {
    refuse(decision, decisionError, t("js.awards.decision.required"));
    return;
  }
  const file = fileInput.files?.[0];
  if (!file) {
    refuse(fileInput, null, t("js.awards.import.no_file"));
    return;
  }
  fileInput.removeAttribute("aria-invalid");
  const query = mode === "check" ? "?dry_run=1" : mode === "valid" ? "?skip_invalid=1" : "";
  const url = `${base}/decisions/${encodeURIComponent(decision.value)}/import${query}`;
  const buttons = [...form.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  say(t("js.awards.import.working"));
  try {
    const { ok, status: code, data, error } = await sendRaw("POST", url, file, mediaType(file));
    const details = error?.details;
    let message;
    if (ok && data) {
      showReport(data);
      const counts = { rows: data.rows, valid: data.valid, invalid: data.invalid };
      message = data.dry_run
        ? t("js.awards.import.checked", counts)
        : t("js.awards.import.done", { ...counts, imported: data.imported });
      say(message, data.invalid > 0);
      if (!data.dry_run) {
        validOnly.hidden = true;
        await options.onImported(decision.value, data.imported);
      }
    } else if (details && !Array.isArray(details) && Array.isArray(details.problems)) {
      showReport(details);
      message = t("js.awards.import.refused", { invalid: details.invalid, rows: details.rows });
      say(message, true);
    } else {
      clearReport();
      message = t("js.awards.import.failed", { message: reason(error, code) });
      say(message, true);
    }
    if (!report.hidden && problems.children.length) report.focus();
  } finally {
    for (const b of buttons) b.disabled = false;
  }
});

/** onImported(decisionId, count) runs after rows were imported. */
export function setupImport({ onImported }) {
  options.onImported = onImported;
}
