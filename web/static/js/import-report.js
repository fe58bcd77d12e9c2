// A CSV or XLSX import form (delegates, an award decision's recipients): check the file
// first, then import all or only the valid rows, and report every problem with its row
// and column, the columns left aside, and whether "import only the valid rows" makes
// sense. The form's parts are #<form id>-status, -report, -problems and -ignored
// (macros.html import_results); keys names the page's strings (row, omitted, ignored,
// working, checked, done, refused, failed).

import { t } from "./page.js";
import { sendRaw } from "./lib/http.js";

export function mediaType(file) {
  return /\.xlsx$/i.test(file.name)
    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    : "text/csv";
}

/** The file chosen in input, or null once say(message) has told the person to choose one. */
export function chosenFile(input, say, message) {
  const file = input.files?.[0];
  if (!file) {
    input.setAttribute("aria-invalid", "true");
    say(message, true);
    input.focus();
    return null;
  }
  input.removeAttribute("aria-invalid");
  return file;
}

export class SpreadsheetImport {
  constructor(form, keys) {
    const part = (name) => document.getElementById(`${form.id}-${name}`);
    this.form = form;
    this.keys = keys;
    this.status = part("status");
    this.report = part("report");
    this.problems = part("problems");
    this.ignored = part("ignored");
    this.validOnly = form.querySelector('[data-mode="valid"]');
  }

  text(name, values) {
    return t(this.keys[name], values);
  }

  say(message, isError = false) {
    this.status.textContent = message;
    this.status.classList.toggle("is-error", isError);
  }

  showReport(data) {
    const { problems, ignored } = this;
    problems.replaceChildren();
    for (const problem of data.problems ?? []) {
      const item = document.createElement("li");
      const place = document.createElement("strong");
      place.textContent = [this.text("row", { row: problem.row }), problem.column]
        .filter(Boolean)
        .join(" · ");
      item.append(place, document.createTextNode(`: ${problem.message}`));
      problems.append(item);
    }
    if (data.problems_omitted) {
      const item = document.createElement("li");
      item.textContent = this.text("omitted", { count: data.problems_omitted });
      problems.append(item);
    }
    const columns = data.ignored_columns ?? [];
    ignored.hidden = columns.length === 0;
    ignored.textContent = this.text("ignored", { columns: columns.join(", ") });
    this.report.hidden = problems.children.length === 0 && columns.length === 0;
    this.validOnly.hidden = !(data.invalid > 0 && data.valid > 0);
  }

  clearReport() {
    this.report.hidden = true;
    this.validOnly.hidden = true;
    this.problems.replaceChildren();
  }

  /**
   * Send file to url as mode asks (check, import, or import only the valid rows), the
   * form's buttons disabled meanwhile, and report the answer. failed(error, status, data)
   * says why a refusal came; onImported(count) runs once rows were imported.
   */
  async send(url, file, mode, { failed, onImported }) {
    const query = mode === "check" ? "?dry_run=1" : mode === "valid" ? "?skip_invalid=1" : "";
    const buttons = [...this.form.querySelectorAll("button")];
    for (const b of buttons) b.disabled = true;
    this.say(this.text("working"));
    try {
      const answer = await sendRaw("POST", `${url}${query}`, file, mediaType(file));
      const { ok, status, data, error } = answer;
      const details = error?.details;
      if (ok && data) {
        this.showReport(data);
        const counts = { rows: data.rows, valid: data.valid, invalid: data.invalid };
        this.say(
          data.dry_run
            ? this.text("checked", counts)
            : this.text("done", { ...counts, imported: data.imported }),
          data.invalid > 0,
        );
        if (!data.dry_run) {
          this.validOnly.hidden = true;
          await onImported(data.imported);
        }
      } else if (details && !Array.isArray(details) && Array.isArray(details.problems)) {
        this.showReport(details);
        this.say(this.text("refused", { invalid: details.invalid, rows: details.rows }), true);
      } else {
        this.clearReport();
        this.say(this.text("failed", { message: failed(error, status, data) }), true);
      }
      if (!this.report.hidden && this.problems.children.length) this.report.focus();
    } catch (thrown) {
      this.say(this.text("failed", { message: String(thrown) }), true);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
}
