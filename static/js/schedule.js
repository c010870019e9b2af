// Show only the fields that belong to the chosen rule (weekday or day of month).
const form = document.querySelector("[data-schedule-form]");
if (form) {
  const rule = form.elements.rule;
  const fieldOf = (name) => form.elements[name]?.closest(".field");
  const update = () => {
    const nth = rule.value === "nth_weekday";
    for (const name of ["week", "weekday"]) fieldOf(name).hidden = !nth;
    fieldOf("day_of_month").hidden = nth;
  };
  rule.addEventListener("change", update);
  update();
}
