import { get, query } from "../../../shared/api.js";
import { $, h, replace } from "../../../shared/dom.js";
import { select } from "../forms.js";
import { notify, param, setParam, showError, startPage } from "../layout.js";
import { changesTable } from "./participant-answers.js";

let results = null;

async function load() {
  const status = param("status") || "pending";
  try {
    const changes = await get(`/api/v1/change-requests${query({ status: status === "all" ? "" : status })}`);
    const waiting = changes.filter((c) => c.can_decide).length;
    replace(results,
      waiting ? h("p", { class: "notice bad" }, `${waiting} waiting for your decision.`) : null,
      changesTable(changes, async (message) => { notify(message); await load(); }, { showSubject: true }));
  } catch (error) {
    showError(results, error);
  }
}

await startPage("changes");
const status = select("status", [["pending", "Waiting for a decision"], ["approved", "Approved"],
  ["rejected", "Rejected"], ["all", "All"]], param("status") || "pending", {
  id: "f-status", onchange: () => { setParam("status", status.value); load(); } });
results = h("div", { id: "results" });
replace($("#content"), h("div", { class: "toolbar" },
  h("p", { class: "filter" }, h("label", { for: "f-status" }, "Show "), status)), results);
await load();
