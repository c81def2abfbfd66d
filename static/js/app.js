/* The one script of the web UI (a static file: the Content-Security-Policy allows no inline
   script). It wires three conventions used by every page:
   1. HTMX forms: a view answers invalid input with 422 and the fragment showing the field
      errors; htmx swaps it in place like a success. Any other failed update (403, 404, 5xx,
      network) is announced in #htmx-alert instead of silently leaving stale content.
   2. data-confirm on a submit button or form: asked after the browser's required-field
      checks passed (the submit event only fires then), never before.
   3. The collapsing navigation on narrow screens (.nav-toggle).
   Also: data-confirm on a link asks on click; <select data-autosubmit> applies a filter as soon
   as it changes. Handlers are delegated from the document, so swapped-in content is covered. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function alertBox() { return document.getElementById("htmx-alert"); }

  function showAlert(text) {
    var box = alertBox();
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  function hideAlert() {
    var box = alertBox();
    if (box) { box.hidden = true; box.textContent = ""; }
  }

  function problemText(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").split(";")[0];
    if (type === "application/problem+json" || type === "application/json") {
      try {
        var problem = JSON.parse(xhr.responseText);
        var text = problem.title || "";
        if (problem.detail) text += (text ? ": " : "") + problem.detail;
        if (text) return text;
      } catch (e) { /* fall through to the status line */ }
    }
    var reasons = { 400: "the input was refused", 403: "permission denied", 404: "not found",
      409: "it conflicts with the current state", 413: "too large", 429: "too many requests, try again shortly" };
    return reasons[xhr.status] || "the server could not complete it";
  }

  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false }
    ];
    // A polling card is not replaced while someone works inside it (a half-typed reason);
    // done here because hx-trigger filters are script that the CSP (allowEval: false) refuses.
    document.body.addEventListener("htmx:beforeRequest", function (evt) {
      var el = evt.detail.elt;
      if (el.hasAttribute("data-poll-keeps-focus") && el.contains(document.activeElement)) {
        evt.preventDefault();
      }
    });
    document.body.addEventListener("htmx:beforeRequest", hideAlert);
    document.body.addEventListener("htmx:responseError", function (evt) {
      var xhr = evt.detail.xhr;
      showAlert("Not updated (" + xhr.status + "): " + problemText(xhr) + ".");
    });
    document.body.addEventListener("htmx:sendError", function () {
      showAlert("Not updated: the server could not be reached. Check your connection and try again.");
    });
  }

  // Capture phase: runs before htmx's own submit handler, so a "Cancel" stops both paths.
  document.addEventListener("submit", function (evt) {
    var button = evt.submitter;
    var message = (button && button.dataset.confirm) || evt.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // Links (not submit buttons, which the submit handler above covers) ask on click.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var target = event.target.closest("[data-autosubmit]");
    if (target && target.form) {
      if (target.form.requestSubmit) {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });

  var toggle = document.querySelector(".nav-toggle");
  if (toggle) {
    var panel = document.getElementById(toggle.getAttribute("aria-controls"));
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      panel.classList.toggle("open", open);
    });
  }
})();
