// The list of conferences: the create form posts to the JSON API, then opens the new one.

import { announce, api, t } from "./page.js";
import { readForm, showErrors, submitting } from "./forms.js";

const FIELDS = ["title", "starts_on", "ends_on", "timezone", "venue"];
const form = document.getElementById("create-conference");

form?.addEventListener("submit", (e) => {
  e.preventDefault();
  submitting(form, async () => {
    const answer = await api("POST", "/api/v1/conferences", readForm(form, FIELDS));
    if (!answer.ok) return showErrors(form, answer.error, answer.status);
    const message = t("js.conference.created");
    announce(message);
    window.location.assign(`/conferences/${encodeURIComponent(answer.data.id)}`);
    return message;
  });
});
