(function () {
  "use strict";
  var kind = document.getElementById("kind-filter");
  var disagree = document.getElementById("disagree-filter");
  var counter = document.getElementById("probe-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#probe-table tbody tr"));
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (kind.value === "" || row.getAttribute("data-kind") === kind.value) &&
        (!disagree.checked || row.getAttribute("data-disagree") === "1");
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    counter.textContent = shown + " of " + rows.length + " probes shown";
  }
  if (kind && disagree) {
    kind.addEventListener("change", apply);
    disagree.addEventListener("change", apply);
    apply();
  }
})();
