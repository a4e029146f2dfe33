/* star-vm-catalog copy buttons (image pages): put a path or command on the clipboard.
 *
 * A button names the element holding the text: <button data-copy-target="ID">. Plain
 * JavaScript in its own file, as the pages' Content Security Policy requires.
 */
(function () {
  "use strict";

  function initCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () { copyFrom(button); });
    });
  }

  function copyFrom(button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) { return; }
    var text = source.textContent;
    var done = function () { confirmCopy(button, "Copied to the clipboard"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { copyBySelection(source, button); });
    } else {
      copyBySelection(source, button);
    }
  }

  /* Plain-HTTP intranet servers are not a secure context: select the text and copy it. */
  function copyBySelection(source, button) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    confirmCopy(button, copied ? "Copied to the clipboard" : "Selected: press Ctrl+C to copy");
  }

  function confirmCopy(button, message) {
    if (!button.hasAttribute("data-label")) {
      button.setAttribute("data-label", button.textContent);
    }
    button.textContent = message.indexOf("Copied") === 0 ? "Copied" : "Selected";
    button.setAttribute("data-copied", "");
    announce(message);
    window.setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-copied");
    }, 2000);
  }

  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region) {
      region = document.createElement("p");
      region.id = "announcer";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = message;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initCopyButtons);
  } else {
    initCopyButtons();
  }
})();
