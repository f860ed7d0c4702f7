// Render every formula of the page with the bundled KaTeX: the Markdown pages' arithmatex
// spans (\( \) and \[ \]) and the notebooks' $ $ and $$ $$; code blocks are left alone.
function mlplabRenderMath() {
  renderMathInElement(document.body, {
    delimiters: [
      {left: "$$", right: "$$", display: true},
      {left: "\\[", right: "\\]", display: true},
      {left: "\\(", right: "\\)", display: false},
      {left: "$", right: "$", display: false},
    ],
    ignoredClasses: ["mlplab-source"],
    throwOnError: false,
  });
}
if (typeof document$ !== "undefined") { document$.subscribe(mlplabRenderMath); }
else { document.addEventListener("DOMContentLoaded", mlplabRenderMath); }
