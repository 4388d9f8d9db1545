// Anti-bot challenge for public forms (ALTCHA v1 protocol, no third party): fetch a challenge,
// find the number whose SHA-256 with the salt matches it, put the solution in the form's
// hidden "challenge" field, then enable the submit button. Needs sha256 from js-sha256.
(function () {
  "use strict";
  function solve(ch) {
    for (var n = 0; n <= ch.maxNumber; n++) {
      if (sha256(ch.salt + n) === ch.challenge) { return n; }
    }
    return null;
  }
  function prepare(form) {
    var field = form.querySelector("input[name=challenge]");
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector(".challenge-status");
    if (!field || !button) { return; }
    button.disabled = true;
    fetch(form.getAttribute("data-challenge-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (ch) {
        var number = solve(ch);
        if (number === null) { throw new Error("unsolved"); }
        field.value = btoa(JSON.stringify({algorithm: ch.algorithm, challenge: ch.challenge, number: number,
                                           salt: ch.salt, signature: ch.signature}));
        button.disabled = false;
        if (status) { status.textContent = status.getAttribute("data-ready"); }
      })
      .catch(function () { if (status) { status.textContent = status.getAttribute("data-failed"); } });
  }
  document.querySelectorAll("form[data-challenge-url]").forEach(prepare);
})();
