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
})();
