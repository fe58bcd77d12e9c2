// A site's check-in figure (present / expected) as the operator's page and the site's
// screen show it: read from the attendance figures, then kept by the live events' news,
// an answer older than the figure shown never overwriting it.

import { formatNumber } from "./format.js";
import { request } from "./http.js";

export class SitePresent {
  /** base: the conference's API path; the page shows the figure in #present-count and
   * #present-expected. */
  constructor(base, siteCode) {
    this.base = base;
    this.site = siteCode;
    this.count = document.getElementById("present-count");
    this.expected = document.getElementById("present-expected");
    this.seq = -1;
  }

  /** Show present ({site, checked_in, expected?}) if it is this site's and not older. */
  show(present, seq = null) {
    if (!present || present.site !== this.site) return;
    if (seq !== null) {
      if (seq < this.seq) return;
      this.seq = seq;
    }
    this.count.textContent = formatNumber(present.checked_in);
    if (typeof present.expected === "number") {
      this.expected.textContent = formatNumber(present.expected);
    }
  }

  /** Read the figure again from the attendance figures. */
  async load() {
    const answer = await request("GET", `${this.base}/attendance`);
    if (!answer.ok) return;
    const mine = (answer.data.sites ?? []).find((s) => s.code === this.site);
    if (!mine) return;
    const expected = mine.expected || mine.registered || 0;
    this.show({ site: this.site, checked_in: mine.checked_in, expected }, answer.data.seq ?? null);
  }
}
