// The dashboards' little script: live events, JSON actions with errors beside their fields, copy buttons.
// Values always reach the page as text (textContent), never as markup.
"use strict";
const OP = (() => {
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  // Newest first; a table keeps at most `limit` rows.
  const prependRow = (tbody, row, limit = 500) => {
    row.classList.add("fresh");
    tbody.prepend(row);
    while (tbody.rows.length > limit) tbody.deleteRow(tbody.rows.length - 1);
    const empty = tbody.closest("table")?.parentElement?.querySelector(".empty");
    if (empty) empty.remove();
  };

  // Render this page again on the server and swap its <main> in: a live page without a reload. Whatever
  // changed (by data-key) is marked fresh; a change during a refresh is followed by one more.
  let refreshing = null, again = false;
  const refresh = async () => {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      try {
        do {
          again = false;
          const response = await fetch(location.href, { headers: { Accept: "text/html" } });
          if (!response.ok) break;
          const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("main");
          const main = document.querySelector("main");
          if (!fresh || !main) break;
          const before = new Map([...main.querySelectorAll("[data-key]")].map((node) => [node.dataset.key, node.textContent]));
          const open = new Set([...main.querySelectorAll("details[open][data-key]")].map((node) => node.dataset.key));
          main.replaceWith(fresh);
          for (const node of fresh.querySelectorAll("[data-key]")) {
            if (before.get(node.dataset.key) !== node.textContent) node.classList.add("fresh");
            if (open.has(node.dataset.key)) node.open = true;
          }
          document.dispatchEvent(new CustomEvent("op:refreshed"));
        } while (again);
      } catch (error) {
        // The server is gone for a moment: the next event, or the stream's reconnection, refreshes again.
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };

  const handlers = {};
  const on = (kind, handler) => { (handlers[kind] ||= []).push(handler); };

  // The stream carries only the kinds this page handles (registered with OP.on before it loads).
  const live = () => {
    const base = document.body.dataset.events;
    const badge = document.getElementById("live");
    if (!base || !window.EventSource) return;
    const kinds = Object.keys(handlers).filter((kind) => kind !== "lagged");
    const url = kinds.length ? base + (base.includes("?") ? "&" : "?") + "kinds=" + encodeURIComponent(kinds.join(",")) : base;
    const source = new EventSource(url);
    const state = (value, label) => { badge.dataset.state = value; badge.textContent = label; };
    source.addEventListener("hello", () => state("on", "live"));
    source.addEventListener("error", () => state("retrying", "reconnecting…"));
    source.addEventListener("lagged", (event) => {
      if (!(handlers.lagged || []).length) location.reload();
      for (const handler of handlers.lagged || []) handler(JSON.parse(event.data));
    });
    const seen = new Set(["hello", "error", "lagged"]);
    const listen = (kind) => {
      if (seen.has(kind)) return;
      seen.add(kind);
      source.addEventListener(kind, (event) => {
        const items = JSON.parse(event.data);
        for (const handler of handlers[kind] || []) handler(items);
      });
    };
    for (const kind of Object.keys(handlers)) listen(kind);
    OP.listen = listen;
    window.addEventListener("beforeunload", () => source.close());
  };

  const clearErrors = (form) => {
    form.querySelectorAll(".field-error").forEach((node) => node.remove());
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    form.querySelectorAll(".form-error").forEach((node) => { node.textContent = ""; });
  };

  // Each error goes beside the field whose data-pointer is the longest prefix of its pointer.
  const showProblem = (form, problem) => {
    const fields = [...form.querySelectorAll("[data-pointer]")];
    const general = form.querySelector(".form-error");
    const errors = problem.errors && problem.errors.length ? problem.errors : [{ pointer: "", message: problem.detail || problem.title }];
    for (const error of errors) {
      const pointer = error.pointer || "";
      const field = fields
        .filter((f) => pointer === f.dataset.pointer || pointer.startsWith(f.dataset.pointer + "/"))
        .sort((a, b) => b.dataset.pointer.length - a.dataset.pointer.length)[0];
      const text = (pointer ? pointer + ": " : "") + error.message;
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.insertAdjacentElement("afterend", el("p", { class: "field-error", role: "alert", "data-for": pointer, text }));
      } else if (general) {
        general.append(el("div", { role: "alert", text }));
      }
    }
  };

  const body = (form) => {
    if (form.dataset.body === "raw") {
      const area = form.querySelector("textarea");
      return { text: area.value, type: form.dataset.contentType || "application/json" };
    }
    const json = {};
    for (const field of form.querySelectorAll("[name]")) {
      if (field.disabled || field.value === "" && !field.dataset.keepEmpty) continue;
      let value = field.value;
      if (field.dataset.type === "number") value = Number(value);
      else if (field.dataset.type === "json") {
        try { value = JSON.parse(value); } catch (error) { throw { pointer: field.dataset.pointer || "/" + field.name, message: "is not JSON" }; }
      }
      json[field.name] = value;
    }
    return { text: JSON.stringify(json), type: "application/json" };
  };

  const send = async (url, method, payload) => {
    const init = { method, headers: { Accept: "application/json, application/problem+json" } };
    if (payload) { init.body = payload.text; init.headers["Content-Type"] = payload.type; }
    const response = await fetch(url, init);
    const text = await response.text();
    let decoded = null;
    try { decoded = text ? JSON.parse(text) : null; } catch (error) { decoded = { detail: text }; }
    return { ok: response.ok, status: response.status, body: decoded };
  };

  const done = (node, answer) => {
    node.dispatchEvent(new CustomEvent("op:done", { bubbles: true, detail: answer }));
    if ((node.dataset.then || "reload") === "reload") location.reload();
  };

  const wire = () => {
    document.addEventListener("submit", async (event) => {
      const form = event.target.closest("form[data-json-action]");
      if (!form) return;
      event.preventDefault();
      clearErrors(form);
      let payload;
      try { payload = body(form); } catch (error) { showProblem(form, { errors: [error] }); return; }
      const answer = await send(form.dataset.jsonAction, form.dataset.method || "POST", payload);
      if (answer.ok) done(form, answer);
      else showProblem(form, answer.body || { detail: `HTTP ${answer.status}` });
    });
    document.addEventListener("click", async (event) => {
      const copy = event.target.closest("button[data-copy]");
      if (copy) {
        const source = document.getElementById(copy.dataset.copy);
        await navigator.clipboard?.writeText(source.textContent).catch(() => {});
        copy.textContent = "copied";
        return;
      }
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
      const payload = button.dataset.json ? { text: button.dataset.json, type: "application/json" } : null;
      const answer = await send(button.dataset.action, button.dataset.method || "POST", payload);
      if (answer.ok) done(button, answer);
      else {
        const where = button.closest("section, form")?.querySelector(".form-error");
        const message = (answer.body && (answer.body.detail || answer.body.title)) || `HTTP ${answer.status}`;
        if (where) where.replaceChildren(el("div", { role: "alert", text: message }));
        else alert(message);
      }
    });
  };

  return { el, prependRow, on, live, wire, send, refresh, listen: () => {} };
})();
document.addEventListener("DOMContentLoaded", () => { OP.wire(); OP.live(); });
