() => {
  // Citations readable without leaving the answer: [n] previews on hover/focus, a sheet on a
  // phone, the card opened inside the (sticky, own-scroll) Sources panel on a desktop.
  const PHONE = window.matchMedia('(max-width: 700px)');
  const markerOf = (el) => el && el.closest && el.closest('a[href^="#rg-"]');
  const cardFor = (link) => document.getElementById(link.getAttribute('href').slice(1));

  const live = document.createElement('div');
  live.className = 'rg-sr-only';
  live.setAttribute('role', 'status');
  live.setAttribute('aria-live', 'polite');
  const root = () => document.querySelector('.gradio-container') || document.body;
  root().appendChild(live);
  const say = (text) => { live.textContent = ''; setTimeout(() => { live.textContent = text; }, 50); };

  function cardParts(card) {
    const part = (sel) => card.querySelector(sel);
    return {
      num: (part('.rg-num') || {}).textContent || '',
      title: (part('.rg-title') || {}).textContent || '',
      section: (part('.rg-section') || {}).textContent || '',
      quote: part('.rg-quote'),
      article: part('.rg-article'),
    };
  }

  // -- hover / focus preview ---------------------------------------------------------------
  let preview = null;
  function hidePreview() {
    if (preview) { preview.remove(); preview = null; }
  }
  function showPreview(link) {
    const card = cardFor(link);
    if (!card) return;
    hidePreview();
    const p = cardParts(card);
    preview = document.createElement('div');
    preview.id = 'rg-preview';
    preview.setAttribute('role', 'tooltip');
    const head = document.createElement('div');
    head.className = 'rg-title';
    head.textContent = `${p.num} ${p.title}`;
    const section = document.createElement('div');
    section.className = 'rg-section';
    section.textContent = p.section;
    preview.append(head, section);
    if (p.quote) preview.appendChild(p.quote.cloneNode(true));
    root().appendChild(preview);
    link.setAttribute('aria-describedby', 'rg-preview');
    const r = link.getBoundingClientRect();
    const w = preview.offsetWidth;
    const left = Math.max(8, Math.min(r.left, innerWidth - w - 8));
    let top = r.bottom + 6;
    if (top + preview.offsetHeight + 8 > innerHeight) top = r.top - preview.offsetHeight - 6;
    preview.style.left = `${left}px`;
    preview.style.top = `${Math.max(4, top)}px`;
  }
  document.addEventListener('mouseover', (e) => {
    const link = markerOf(e.target);
    if (link && !PHONE.matches) showPreview(link);
  });
  document.addEventListener('mouseout', (e) => { if (markerOf(e.target)) hidePreview(); });
  document.addEventListener('focusin', (e) => {
    const link = markerOf(e.target);
    if (link && !PHONE.matches) showPreview(link); else hidePreview();
  });

  // -- phone: the card in a sheet, with a way back -----------------------------------------
  let sheet = null;
  let returnTo = null;
  function closeSheet() {
    if (!sheet) return;
    sheet.remove();
    document.getElementById('rg-sheet-backdrop')?.remove();
    sheet = null;
    if (returnTo) returnTo.focus({preventScroll: true});
  }
  function openSheet(link, card) {
    closeSheet();
    returnTo = link;
    const p = cardParts(card);
    const backdrop = document.createElement('div');
    backdrop.id = 'rg-sheet-backdrop';
    backdrop.addEventListener('click', closeSheet);
    sheet = document.createElement('div');
    sheet.id = 'rg-sheet';
    sheet.setAttribute('role', 'dialog');
    sheet.setAttribute('aria-modal', 'true');
    sheet.setAttribute('aria-labelledby', 'rg-sheet-title');
    const back = document.createElement('button');
    back.id = 'rg-sheet-back';
    back.type = 'button';
    back.textContent = '← Back to the answer';
    back.addEventListener('click', closeSheet);
    const title = document.createElement('div');
    title.id = 'rg-sheet-title';
    title.className = 'rg-title';
    title.textContent = `${p.num} ${p.title}`;
    const section = document.createElement('div');
    section.className = 'rg-section';
    section.textContent = p.section;
    sheet.append(back, title, section);
    if (p.quote) sheet.appendChild(p.quote.cloneNode(true));
    if (p.article) sheet.appendChild(p.article.cloneNode(true));
    root().append(backdrop, sheet);
    back.focus({preventScroll: true});
    const mark = sheet.querySelector('.rg-article mark');
    const box = sheet.querySelector('.rg-article');
    if (mark && box) box.scrollTop = mark.offsetTop - box.offsetTop - box.clientHeight / 3;
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { hidePreview(); closeSheet(); }
    if (e.key === 'Tab' && sheet) {  // a modal sheet keeps the focus inside it
      const stops = [...sheet.querySelectorAll('button, [tabindex="0"]')];
      const at = stops.indexOf(document.activeElement);
      const next = (at + (e.shiftKey ? -1 : 1) + stops.length) % stops.length;
      e.preventDefault();
      stops[next].focus();
    }
  });

  // -- click on [n]: open the card where it is readable ------------------------------------
  function scrollPanelTo(card) {
    const panel = card.closest('#rg-sources-col');
    if (panel && panel.scrollHeight > panel.clientHeight && !PHONE.matches) {
      const top = card.getBoundingClientRect().top - panel.getBoundingClientRect().top;
      panel.scrollTo({top: panel.scrollTop + top - 8, behavior: 'smooth'});
      const r = panel.getBoundingClientRect();
      if (r.top < 0 || r.top > innerHeight / 2) panel.scrollIntoView({block: 'start'});
    } else {
      card.scrollIntoView({behavior: 'smooth', block: 'start'});
    }
    const mark = card.querySelector('.rg-article mark');
    const box = card.querySelector('.rg-article');
    if (mark && box) box.scrollTop = mark.offsetTop - box.offsetTop - box.clientHeight / 3;
  }
  document.addEventListener('click', (event) => {
    const link = markerOf(event.target);
    if (!link) return;
    const card = cardFor(link);
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    hidePreview();
    if (PHONE.matches) {  // chat, compare table or profile: the card over the page
      openSheet(link, card);
      return;
    }
    card.open = true;
    // a card behind a closed "Sources (n)" toggle: open the toggle first
    for (let up = card.parentElement; up; up = up.parentElement) {
      if (up.tagName === 'DETAILS') up.open = true;
    }
    scrollPanelTo(card);
    card.classList.add('rg-flash');
    setTimeout(() => card.classList.remove('rg-flash'), 1500);
  }, true);
  document.addEventListener('toggle', (event) => {
    const card = event.target;
    if (!card.classList || !card.classList.contains('rg-card') || !card.open) return;
    const mark = card.querySelector('.rg-article mark');
    const box = card.querySelector('.rg-article');
    if (mark && box) box.scrollTop = mark.offsetTop - box.offsetTop - box.clientHeight / 3;
  }, true);

  // -- copy: plain text and a numbered source list, not the Markdown ----------------------
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('#rg-chat button[aria-label="Copy message"]');
    if (!button) return;
    const bar = button.closest('.message-buttons');
    if (!bar) return;
    let text;
    if (bar.classList.contains('message-buttons-left')) {  // an answer: Gradio puts them left
      const bars = [...document.querySelectorAll('#rg-chat .message-buttons-left')];
      const group = document.querySelector(`#rg-sources .rg-group[data-turn="${bars.indexOf(bar)}"]`);
      text = group && group.dataset.copy;
    }
    const row = bar.previousElementSibling;
    if (!text && row) text = row.innerText.trim();
    if (!text) return;
    event.preventDefault();
    event.stopPropagation();
    const done = (message) => {
      say(message);
      button.dataset.rgCopied = message.startsWith('Copied') ? 'Copied' : 'Not copied';
      setTimeout(() => { delete button.dataset.rgCopied; }, 1600);
    };
    navigator.clipboard.writeText(text).then(
      () => done('Copied the answer and its sources as plain text.'),
      () => done('The browser did not allow copying.'),
    );
  }, true);

  // -- Gradio's example list holds buttons, so it is a group, not a list (axe: critical) ---
  const fixRoles = () => {
    document.querySelectorAll('#rg-chat .examples[role="list"]').forEach((el) => {
      el.setAttribute('role', 'group');
      el.setAttribute('aria-label', 'Example questions');
    });
  };
  fixRoles();
  new MutationObserver(fixRoles).observe(document.body, {childList: true, subtree: true});
}
