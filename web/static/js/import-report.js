// The report of a CSV or XLSX import (delegates, an award decision's recipients): every
// problem with its row and column, the columns left aside, and whether "import only the
// valid rows" makes sense. keys names the page's own strings (row, omitted, ignored).

import { t } from "./page.js";

export function showImportReport({ report, problems, ignored, validOnly }, data, keys) {
  problems.replaceChildren();
  for (const problem of data.problems ?? []) {
    const item = document.createElement("li");
    const place = document.createElement("strong");
    place.textContent = [t(keys.row, { row: problem.row }), problem.column]
      .filter(Boolean)
      .join(" · ");
    item.append(place, document.createTextNode(`: ${problem.message}`));
    problems.append(item);
  }
  if (data.problems_omitted) {
    const item = document.createElement("li");
    item.textContent = t(keys.omitted, { count: data.problems_omitted });
    problems.append(item);
  }
  const columns = data.ignored_columns ?? [];
  ignored.hidden = columns.length === 0;
  ignored.textContent = t(keys.ignored, { columns: columns.join(", ") });
  report.hidden = problems.children.length === 0 && columns.length === 0;
  validOnly.hidden = !(data.invalid > 0 && data.valid > 0);
}

export function mediaType(file) {
  return /\.xlsx$/i.test(file.name)
    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    : "text/csv";
}
