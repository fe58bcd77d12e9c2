// Import a conference file: check it (dry run) or create the conference, listing every problem.

import { announce, t } from "./page.js";
import { sendRaw } from "./lib/http.js";
import { chosenFile } from "./import-report.js";

const form = document.getElementById("import-conference");
const fileInput = document.getElementById("import-file");
const dryRun = document.getElementById("import-dry-run");
const status = document.getElementById("import-status");
const problems = document.getElementById("import-problems");

function mediaType(file) {
  return /\.json$/i.test(file.name) ? "application/json" : "application/yaml";
}

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("is-error", isError);
  announce(message);
}

function listProblems(details) {
  problems.replaceChildren();
  for (const problem of details) {
    const item = document.createElement("li");
    const where = [problem.line ? t("js.import.line", { line: problem.line }) : "", problem.path]
      .filter(Boolean)
      .join(" · ");
    const place = document.createElement("strong");
    place.textContent = where;
    item.append(place, document.createTextNode(where ? `: ${problem.message}` : problem.message));
    problems.append(item);
  }
  problems.hidden = details.length === 0;
}

async function send(file, check) {
  const url = `/api/v1/conferences/import${check ? "?dry_run=1" : ""}`;
  const { status, data } = await sendRaw("POST", url, await file.text(), mediaType(file));
  return { status, data };
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  listProblems([]);
  const file = chosenFile(fileInput, say, t("js.import.no_file"));
  if (!file) return;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const { status: code, data } = await send(file, dryRun.checked);
    if (code === 201) {
      say(t("js.import.done"));
      window.location.assign(`/conferences/${encodeURIComponent(data.id)}`);
    } else if (code === 200 && data?.valid) {
      const c = data.counts;
      say(
        t("js.import.valid", {
          title: data.title,
          sites: c.sites,
          delegates: c.delegates,
          items: c.agenda_items,
          decisions: c.decisions,
        }),
      );
    } else if (Array.isArray(data?.error?.details) && data.error.details.length) {
      say(t("js.import.problems", { count: data.error.details.length }), true);
      listProblems(data.error.details);
      problems.focus();
    } else {
      say(t("js.import.failed", { message: data?.error?.message ?? String(code) }), true);
    }
  } catch (error) {
    say(t("js.import.failed", { message: String(error) }), true);
  } finally {
    button.disabled = false;
  }
});
