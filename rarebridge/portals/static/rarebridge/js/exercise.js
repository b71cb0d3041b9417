// Exercise autosave. Every change is saved about a second after typing stops; a copy is kept
// on this device first, so a lost connection or a closed browser loses nothing. Two tabs never
// overwrite each other silently: the server refuses a save based on an older revision (409)
// and the person chooses which version to keep.
(function () {
  "use strict";
  var form = document.querySelector("form.exercise-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var url = form.dataset.autosaveUrl;
  var draftKey = form.dataset.draftKey;
  var status = form.querySelector(".save-status");
  var conflictBox = form.querySelector(".conflict-actions");
  var revisionInput = form.querySelector("input[name=base_revision]");
  var clientId = Math.random().toString(36).slice(2);
  var timer = null, dirty = false, saving = false, retryDelay = 2000, otherVersion = null;

  function say(key, extra) {
    status.textContent = (status.dataset[key + "Text"] || "") + (extra ? " " + extra : "");
  }
  function entries() {
    var data = new FormData(form);
    data.set("client_id", clientId);
    return data;
  }
  function keepDraft() {
    try {
      var pairs = [];
      new FormData(form).forEach(function (v, k) { if (k !== "csrfmiddlewaretoken") { pairs.push([k, v]); } });
      localStorage.setItem(draftKey, JSON.stringify({ revision: revisionInput.value, pairs: pairs, at: Date.now() }));
    } catch (e) { /* private mode: the server copy still protects the text */ }
  }
  function dropDraft() { try { localStorage.removeItem(draftKey); } catch (e) {} }
  function restoreDraft() {
    var raw = null;
    try { raw = localStorage.getItem(draftKey); } catch (e) { return false; }
    if (!raw) { return false; }
    var draft = JSON.parse(raw);
    var byName = {};
    draft.pairs.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.name === "csrfmiddlewaretoken") { return; }
      var values = byName[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) !== -1 || (el.value === "on" && values.length > 0); }
      else if (values.length) { el.value = values[0]; }
    });
    return true;
  }
  function showErrors(errors) {
    form.querySelectorAll(".autosave-error").forEach(function (n) { n.remove(); });
    Object.keys(errors || {}).forEach(function (id) {
      var wrap = document.getElementById("wrap-f." + id);
      if (!wrap) { return; }
      var p = document.createElement("p");
      p.className = "errorlist autosave-error";
      p.textContent = errors[id];
      wrap.insertBefore(p, wrap.firstChild.nextSibling);
    });
  }
  function save() {
    if (saving) { timer = setTimeout(save, 300); return; }
    saving = true;
    say("saving");
    fetch(url, { method: "POST", body: entries(), credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.json().then(function (body) { return { code: r.status, body: body }; }); })
      .then(function (res) {
        saving = false;
        if (res.code === 200) {
          revisionInput.value = res.body.revision;
          dirty = false; retryDelay = 2000; dropDraft(); showErrors({}); conflictBox.hidden = true;
          say("saved", res.body.saved_at);
        } else if (res.code === 409) {
          otherVersion = res.body;
          conflictBox.hidden = false;
          say("conflict");
        } else if (res.code === 422) {
          showErrors(res.body.errors);
          say("invalid");
        }
      })
      .catch(function () {
        saving = false;
        say("offline");
        timer = setTimeout(save, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 60000);
      });
  }
  function changed() {
    dirty = true;
    keepDraft();
    clearTimeout(timer);
    timer = setTimeout(save, 1000);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", function () { if (dirty) { save(); } });
  conflictBox.addEventListener("click", function (event) {
    var action = event.target.dataset.action;
    if (action === "keep-mine" && otherVersion) {
      revisionInput.value = otherVersion.revision;  // build on the latest revision, with this tab's text
      save();
    } else if (action === "load-other") {
      dropDraft();
      window.location.reload();
    }
  });
  // Closing the tab or the browser: send what is unsaved in one last request.
  window.addEventListener("pagehide", function () {
    if (dirty && navigator.sendBeacon) { navigator.sendBeacon(url, entries()); }
  });
  // Coming back: a copy kept on this device that never reached the server is put back and saved.
  if (restoreDraft()) { dirty = true; save(); }
})();
