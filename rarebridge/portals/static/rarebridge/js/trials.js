// Study pages. (1) On the eligibility checklist, ticking "thoughts of ending my life" shows the
// crisis resources of the chosen site's country at once, before anything is sent.
// (2) On a questionnaire, each answer is saved a moment after it is chosen, with the same
// revision check as exercises: a save based on an older revision is refused (409). A risk
// answer (PHQ-9 item 9 above 0) shows the country's crisis resources at once.
(function () {
  "use strict";
  var join = document.querySelector("form.join-form");
  if (join) {
    var box = document.getElementById("crisis-now");
    var tick = join.querySelector("input[name=acute_suicidality]");
    var site = join.querySelector("select[name=site]");
    var countries = JSON.parse(join.dataset.siteCountries || "{}");
    var update = function (focus) {
      if (!tick || !box) { return; }
      box.hidden = !tick.checked;
      var country = site ? countries[site.value] : null;
      box.querySelectorAll(".crisis-country").forEach(function (el) {
        el.hidden = Boolean(country) && el.dataset.country !== country;
      });
      if (tick.checked && focus) { box.focus(); }
    };
    if (tick) { tick.addEventListener("change", function () { update(true); }); }
    if (site) { site.addEventListener("change", function () { update(false); }); }
    update(false);
  }

  var form = document.querySelector("form.questionnaire-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = form.querySelector(".save-status");
  var revision = form.querySelector("input[name=base_revision]");
  var timer = null;
  function say(key) { if (status) { status.textContent = status.dataset[key + "Text"] || ""; } }
  function save() {
    var data = new FormData(form);
    data.set("action", "autosave");
    say("saving");
    fetch(form.dataset.autosaveUrl, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.json().then(function (body) { return { code: r.status, body: body }; }); })
      .then(function (res) {
        if (res.code === 200) { revision.value = res.body.revision; say("saved"); }
        else if (res.code === 409) { say("conflict"); }
        else { say("failed"); }
      })
      .catch(function () { say("failed"); });
  }
  var crisis = form.querySelector("#crisis-now");
  function showCrisis(focus) {
    if (!crisis) { return; }
    var chosen = form.querySelector("input[name='" + crisis.dataset.riskItem + "']:checked");
    var risky = Boolean(chosen) && Number(chosen.value) > 0;
    if (risky && crisis.hidden && focus) { setTimeout(function () { crisis.focus(); }, 0); }
    crisis.hidden = !risky;
  }
  showCrisis(false);
  var progress = document.getElementById("progress");
  function countAnswered() {
    if (!progress) { return; }
    var names = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (el) { names[el.name] = true; });
    progress.value = Object.keys(names).length;
    progress.textContent = progress.value + " / " + progress.max;
  }
  form.addEventListener("change", function () {
    countAnswered();
    showCrisis(true);
    clearTimeout(timer);
    timer = setTimeout(save, 400);
  });
})();

// On a phone, one question per screen: the others are hidden, Previous / Next move between
// them, and the review button appears at the last one. Wide screens show them all together.
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire-form");
  if (!form || !window.matchMedia || !window.matchMedia("(max-width: 40rem)").matches) { return; }
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
  if (questions.length < 2) { return; }
  var submit = form.querySelector("button[type=submit]");
  var nav = document.createElement("div");
  nav.className = "question-nav";
  var step = document.createElement("p");
  step.setAttribute("aria-live", "polite");
  var previous = document.createElement("button");
  previous.type = "button";
  previous.textContent = form.dataset.previousText;
  var next = document.createElement("button");
  next.type = "button";
  next.className = "primary";
  next.textContent = form.dataset.nextText;
  nav.appendChild(step);
  nav.appendChild(previous);
  nav.appendChild(next);
  questions[questions.length - 1].after(nav);
  // Start at the first unanswered question, so coming back resumes where the person stopped.
  var current = questions.findIndex(function (q) { return !q.querySelector("input:checked"); });
  if (current < 0) { current = questions.length - 1; }
  function show(index, focus) {
    current = index;
    questions.forEach(function (q, i) { q.hidden = i !== index; });
    previous.hidden = index === 0;
    next.hidden = index === questions.length - 1;
    submit.hidden = index !== questions.length - 1;
    step.textContent = form.dataset.stepText.replace("%(n)s", index + 1).replace("%(total)s", questions.length);
    if (focus) { questions[index].querySelector("input").focus(); }
  }
  previous.addEventListener("click", function () { show(Math.max(0, current - 1), true); });
  next.addEventListener("click", function () { show(Math.min(questions.length - 1, current + 1), true); });
  show(current, false);
})();
