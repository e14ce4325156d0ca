// Swagger UI plugins for /docs, named in SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] and loaded before its start-up script.
(function () {
  "use strict";

  // Each operation's summary is a button that opens it; with deep linking Swagger UI also puts the path inside it as a
  // link, a control inside a control that keyboards and screen readers cannot reach apart. The path stays plain
  // text there; the address bar still follows the open operation, and the tag headings keep their links.
  function operationPathWithoutNestedLink() {
    return {
      wrapComponents: {
        OperationSummaryPath: function (Original, system) {
          return function (props) {
            var operationProps = props.operationProps.set("isDeepLinkingEnabled", false);
            return system.React.createElement(Original, Object.assign({}, props, { operationProps: operationProps }));
          };
        }
      }
    };
  }

  window.QuickPollSwaggerPlugins = [operationPathWithoutNestedLink];

  // Swagger UI leaves some controls without a name (the dialog's close icon; a parameter's select box, whose name
  // is in its row) or with one that differs from their text, and its code samples scroll without taking focus.
  // React leaves attributes it does not own alone, so these are set once on each new element.
  function nameTheUnnamed() {
    document.querySelectorAll("#swagger-ui .close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close");
    });
    document.querySelectorAll("#swagger-ui .auth-btn-wrapper [aria-label]").forEach(function (button) {
      button.removeAttribute("aria-label");
    });
    document.querySelectorAll("#swagger-ui tr[data-param-name] select:not([aria-label])").forEach(function (select) {
      select.setAttribute("aria-label", select.closest("tr").getAttribute("data-param-name"));
    });
    document.querySelectorAll("#swagger-ui pre.microlight:not([tabindex])").forEach(function (pre) {
      pre.setAttribute("tabindex", "0");
    });
  }

  new MutationObserver(nameTheUnnamed).observe(document.documentElement, { childList: true, subtree: true });
})();
