// The portal's small helps, none of which a page needs to work (progressive enhancement):
// a long list of agencies gets a box that narrows it as one types, with or without diacritics.

const fold = (text) =>
  text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();

function filterable(select) {
  const label = select.dataset.filter;
  const box = document.createElement("input");
  box.type = "search";
  box.className = "govuk-input govuk-!-margin-bottom-2";
  box.id = `${select.id}-filter`;
  box.autocomplete = "off";
  box.setAttribute("aria-controls", select.id);
  const caption = document.createElement("label");
  caption.className = "govuk-label govuk-body-s";
  caption.htmlFor = box.id;
  caption.textContent = label;
  select.before(caption, box);
  const options = Array.from(select.options);
  box.addEventListener("input", () => {
    const wanted = fold(box.value.trim());
    let first = null;
    for (const option of options) {
      const shown = !option.value || !wanted || fold(option.text).includes(wanted);
      option.hidden = !shown;
      option.disabled = !shown && option.value !== select.value;
      if (shown && option.value && first === null) first = option;
    }
    const current = select.options[select.selectedIndex];
    if (first !== null && (!current || current.hidden || !current.value)) select.value = first.value;
  });
}

document.querySelectorAll("select[data-filter]").forEach(filterable);
