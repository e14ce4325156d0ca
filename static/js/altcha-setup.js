// The vote form's proof-of-work widget (polls/bot_defence.py). Runs after the vendored ALTCHA module:
// registers the one worker our challenges need (a file of our own origin, so the CSP needs no blob:),
// then puts the widget into each slot the page marked. It solves the challenge while the voter picks,
// and the form posts its solution in the hidden field "altcha".
for (const slot of document.querySelectorAll("[data-altcha-challenge]")) {
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(slot.dataset.altchaWorker));
  const widget = document.createElement("altcha-widget");
  widget.setAttribute("name", "altcha");
  widget.setAttribute("challenge", slot.dataset.altchaChallenge);
  widget.setAttribute("auto", "onload");
  slot.append(widget);
}
