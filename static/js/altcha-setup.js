// The vote form's proof-of-work widget (polls/bot_defence.py). Runs after the vendored ALTCHA module:
// registers the one worker our challenges need (a file of our own origin, so the CSP needs no blob:),
// then puts the widget into each slot the page marked. It solves the challenge while the voter picks,
// and the form posts its solution in the hidden field "altcha". A deck's audience page calls
// quickpollAltcha again for each poll it swaps in (static/js/quickpoll.js, "Deck").
globalThis.quickpollAltcha = (root) => {
  for (const slot of root.querySelectorAll("[data-altcha-challenge]")) {
    if (slot.querySelector("altcha-widget")) continue;
    globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(slot.dataset.altchaWorker));
    const widget = document.createElement("altcha-widget");
    widget.setAttribute("name", "altcha");
    widget.setAttribute("challenge", slot.dataset.altchaChallenge);
    widget.setAttribute("auto", "onload");
    slot.append(widget);
  }
};
globalThis.quickpollAltcha(document);
