// Renders the page's ```mermaid blocks (<pre class="mermaid">) with the vendored Mermaid; nothing is fetched.
"use strict";
mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
mermaid.run({ querySelector: "pre.mermaid" }).catch((err) => {
  document.querySelectorAll("pre.mermaid").forEach((el) => el.classList.add("mermaid-failed"));
  console.warn("docatlas: a diagram could not be drawn:", err && err.message);
});
