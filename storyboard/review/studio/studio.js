// The studio page's live half (storyboard/review/studio/controls.py injects it).
(() => {
  const token = document.querySelector('meta[name="studio-token"]').content;
  let version = Number(document.body.dataset.version || 0);
  const post = (path, body) => fetch(path, {method: 'POST', headers: {
    'Content-Type': 'application/json', 'X-Studio-Token': token}, body: JSON.stringify(body)});
  const player = (ep) => document.querySelector(
    `section.episode[data-episode="${CSS.escape(ep)}"] video.episode-video`);
  function tools(panel, state) {
    if (panel.dataset.card !== undefined || panel.querySelector('.studio-tools')) return;
    const key = `${panel.dataset.episode}/${panel.dataset.shot}`;
    const box = document.createElement('div');
    box.className = 'studio-tools';
    const paid = (state.paid || {})[key];
    if (paid && paid.command) {
      const line = document.createElement('div');
      line.className = 'paid';
      line.textContent = `${paid.status}: about ${paid.cost} ${paid.currency} to render: `;
      const code = document.createElement('code');
      code.textContent = paid.command;
      line.appendChild(code);
      box.appendChild(line);
    }
    const play = document.createElement('button');
    play.type = 'button'; play.className = 'play-shot'; play.textContent = 'play shot';
    play.addEventListener('click', (e) => { e.stopPropagation(); playShot(panel); });
    const text = document.createElement('textarea');
    text.className = 'note-text'; text.placeholder = 'a note on this shot';
    text.addEventListener('click', (e) => e.stopPropagation());
    const save = document.createElement('button');
    save.type = 'button'; save.className = 'add-note'; save.textContent = 'add note';
    save.addEventListener('click', async (e) => {
      e.stopPropagation();
      const chosen = box.querySelector('.note-take');
      const body = {shot: key, text: text.value};
      if (chosen && chosen.value) body.take = Number(chosen.value);
      const r = await post('/notes', body);
      if (!r.ok) { alert((await r.json()).error); return; }
      // the panel may have been replaced meanwhile (the note is on it now): clear what it shows
      const now = document.getElementById(panel.id)?.querySelector('.note-text');
      [text, now].forEach((t) => { if (t && t.value === body.text) t.value = ''; });
    });
    const take = document.createElement('select');
    take.className = 'note-take';
    take.addEventListener('click', (e) => e.stopPropagation());
    const numbers = [...panel.querySelectorAll('.takes figure.take')].map((f) => f.dataset.take);
    ['', ...numbers].forEach((n) => { const o = document.createElement('option');
      o.value = n; o.textContent = n ? `take ${n}` : 'the shot'; take.appendChild(o); });
    if (!numbers.length) take.hidden = true;
    // a cast asset is no shot: no episode to play it in, no notes on it; only its takes' tools
    if (panel.dataset.asset === undefined) box.append(play, text, take, save);
    takeTools(panel.querySelectorAll('.takes figure.take'), box, key, '');
    const board = panel.querySelector('.board');  // the shot's board: its takes beside the shot's
    if (board) {
      const tools = document.createElement('div');
      tools.className = 'board-tools';
      takeTools(board.querySelectorAll('figure.board-take'), tools, board.dataset.asset, 'board-',
        board.hasAttribute('data-approved'));  // an approved board offers no Approve again
      board.appendChild(tools);
    }
    panel.appendChild(box);
  }
  // pick and approve buttons for ``figures``: the takes of ``key`` (a shot, a cast asset, or a
  // board: its buttons' classes led by ``prefix``, apart from its shot's)
  function takeTools(figures, box, key, prefix, approved = false) {
    if (!figures.length) return;
    const act = async (path, body) => {
      const r = await post(path, body);
      if (!r.ok) alert((await r.json()).error);
    };
    const pickTake = async (take) => {
      const r = await post('/pick', {shot: key, take});
      if (r.ok) return;
      const said = (await r.json()).error;
      // an approved shot: say so, and pick only when told to (as --replace-approved)
      if (r.status === 409 && confirm(`${said}\n\nPick take ${take} and lift the approval?`)) act('/pick', {shot: key, take, replace_approved: true});
      else if (r.status !== 409) alert(said);
    };
    figures.forEach((figure) => {
      const pick = document.createElement('button');
      pick.type = 'button'; pick.className = `${prefix}pick`;
      pick.textContent = `Pick take ${figure.dataset.take}`;
      pick.disabled = figure.classList.contains('used');
      pick.addEventListener('click', (e) => { e.stopPropagation();
        pickTake(Number(figure.dataset.take)); });
      figure.appendChild(pick);
    });
    if ([...figures].some((f) => f.querySelector('img'))) {
      const view = document.createElement('button');
      view.type = 'button'; view.className = `${prefix}view-takes`;
      view.textContent = prefix ? 'View boards large' : 'View takes large';
      view.addEventListener('click', (e) => { e.stopPropagation(); viewTakes(figures, pickTake); });
      figures.forEach((f) => f.querySelector('img')?.addEventListener('click', (e) => {
        e.stopPropagation(); viewTakes(figures, pickTake); }));
      box.appendChild(view);
    }
    if (approved) return;
    const approve = document.createElement('button');
    approve.type = 'button'; approve.className = `${prefix}approve`;
    approve.textContent = prefix ? 'Approve the board' : 'Approve';
    approve.addEventListener('click', async (e) => {
      e.stopPropagation();
      const r = await post('/approve', {shot: key});
      if (r.ok) return;
      const said = (await r.json()).error;
      // a take with findings: say them, and approve only when told to (as --force)
      if (r.status === 409 && confirm(`${said}\n\nApprove it anyway?`)) act('/approve', {shot: key, force: true});
      else if (r.status !== 409) alert(said);
    });
    box.appendChild(approve);
  }
  // every take of a shot or a cast asset side by side, as large as the window allows
  function viewTakes(figures, pickTake) {
    const viewer = document.createElement('div');
    viewer.className = 'take-viewer'; viewer.setAttribute('role', 'dialog');
    const row = document.createElement('div'); row.className = 'take-row';
    const shut = () => { viewer.remove(); document.removeEventListener('keydown', onKey); };
    const onKey = (e) => { if (e.key === 'Escape') shut(); };
    figures.forEach((figure) => {
      const small = figure.querySelector('img');
      if (!small) return;
      const big = document.createElement('figure');
      big.className = 'take-large' + (figure.classList.contains('used') ? ' used' : '');
      big.dataset.take = figure.dataset.take;
      const picture = document.createElement('img');
      picture.src = figure.dataset.full || small.src; picture.alt = small.alt;
      const caption = document.createElement('figcaption');
      caption.textContent = `take ${figure.dataset.take}` + (figure.classList.contains('used') ? ' · used' : '');
      const pick = document.createElement('button');
      pick.type = 'button'; pick.className = 'pick'; pick.textContent = `Pick take ${figure.dataset.take}`;
      pick.disabled = figure.classList.contains('used');
      pick.addEventListener('click', () => { shut(); pickTake(Number(figure.dataset.take)); });
      big.append(picture, caption, pick);
      row.appendChild(big);
    });
    const close = document.createElement('button');
    close.type = 'button'; close.className = 'close-viewer'; close.textContent = 'Close (Esc)';
    close.addEventListener('click', shut);
    viewer.addEventListener('click', (e) => { if (e.target === viewer || e.target === row) shut(); });
    document.addEventListener('keydown', onKey);
    viewer.append(close, row);
    document.body.appendChild(viewer);
  }
  function seek(panel) {
    const video = player(panel.dataset.episode);
    if (video) video.currentTime = Number(panel.dataset.start);
    return video;
  }
  function playShot(panel) {
    const video = seek(panel);
    if (!video) return;
    const end = Number(panel.dataset.start) + Number(panel.dataset.seconds);
    const stop = () => { if (video.currentTime >= end) { video.pause(); video.removeEventListener('timeupdate', stop); } };
    video.addEventListener('timeupdate', stop);
    video.play();
  }
  // an episode's boards made and not approved: one button approves them all (as
  // `storyboard approve SERIES boards/EP`), then says what it approved and skipped
  function episodeBoards(line) {
    if (line.querySelector('button')) return;
    const button = document.createElement('button');
    button.type = 'button'; button.className = 'approve-episode-boards';
    button.textContent = `Approve the boards of ${line.dataset.episode}`;
    button.addEventListener('click', async () => {
      button.disabled = true;
      const r = await post('/approve-boards', {episode: line.dataset.episode});
      const said = await r.json();
      if (!r.ok) { alert(said.error); button.disabled = false; return; }
      const skipped = said.skipped.map((s) => `${s.board}: ${s.why}`);
      if (skipped.length) alert(`approved ${said.approved.length} board(s); skipped:\n${skipped.join('\n')}`);
    });
    line.appendChild(button);
  }
  // each episode's language, as the person chose it (kept through the studio's updates)
  const language = {};
  function showLanguage(section) {
    const chosen = language[section.dataset.episode] || '';
    const select = section.querySelector('select.language-switch');
    if (!select) return;
    if (!select.querySelector(`option[value="${CSS.escape(chosen)}"]`)) delete language[section.dataset.episode];
    select.value = language[section.dataset.episode] || '';
    section.dataset.language = select.value;
    section.querySelectorAll('.version').forEach((v) => { v.hidden = v.dataset.language !== select.value; });
    const original = section.querySelector(':scope > video.episode-video');
    if (original) original.hidden = select.value !== '';
  }
  document.addEventListener('change', (e) => {
    const select = e.target.closest && e.target.closest('select.language-switch');
    if (!select) return;
    language[select.dataset.episode] = select.value;
    showLanguage(select.closest('section.episode'));
  });
  function wire(root, state) {
    [root, ...root.querySelectorAll('section.episode')].forEach((section) => {
      if (section.matches && section.matches('section.episode')) showLanguage(section); });
    [root, ...root.querySelectorAll('p.episode-boards')].forEach((line) => {
      if (line.matches && line.matches('p.episode-boards')) episodeBoards(line); });
    root.querySelectorAll('article.panel').forEach((panel) => {
      if (!panel.dataset.wired) {
        panel.dataset.wired = '1';
        panel.addEventListener('click', () => seek(panel));
      }
      tools(panel, state);
    });
  }
  const source = new WeakMap();  // element -> the HTML it was made from (before the tools)
  const TRACKED = 'header.series, section.episode, section.episode > *, article.panel';
  const remember = (root) => [root, ...root.querySelectorAll(TRACKED)]
    .forEach((el) => { if (el.matches && el.matches(TRACKED)) source.set(el, el.outerHTML); });
  const adopt = (fresh) => { const made = document.importNode(fresh, true); remember(made); return made; };
  function swapVideo(old, fresh) {
    if (old.getAttribute('src') === fresh.getAttribute('src') && source.get(old) === fresh.outerHTML) return;
    source.set(old, fresh.outerHTML);
    const apply = () => { old.setAttribute('src', fresh.getAttribute('src'));
      if (fresh.getAttribute('poster')) old.setAttribute('poster', fresh.getAttribute('poster')); old.load(); };
    if (old.paused) apply(); else old.addEventListener('pause', apply, {once: true});
  }
  function replace(old, fresh) {
    if (source.get(old) === fresh.outerHTML) return old;
    const made = adopt(fresh);
    old.replaceWith(made);
    return made;
  }
  function patchPanels(old, fresh) {
    const olds = new Map([...old.querySelectorAll(':scope > article.panel')].map((a) => [a.id, a]));
    [...fresh.querySelectorAll(':scope > article.panel')].forEach((f) => {
      const o = olds.get(f.id);
      const kept = o ? replace(o, f) : adopt(f);
      olds.delete(f.id);
      old.appendChild(kept);  // fresh order
    });
    olds.forEach((o) => o.remove());
  }
  function patchSection(old, fresh) {  // returns the section now in the page
    const oldKids = [...old.children], freshKids = [...fresh.children];
    const shape = (kids) => kids.map((k) => k.tagName + '.' + k.className.split(' ')[0]).join();
    if (shape(oldKids) !== shape(freshKids)) return replace(old, fresh);
    oldKids.forEach((o, i) => {
      const f = freshKids[i];
      if (o.tagName === 'VIDEO') swapVideo(o, f);
      else if (o.classList.contains('panels')) patchPanels(o, f);
      else replace(o, f);
    });
    return old;
  }
  // What the page shows: each part's tag (the header, each section), as the studio named them.
  const shown = JSON.parse(document.querySelector('meta[name="studio-event"]').content);
  const tags = Object.fromEntries(shown.parts);
  let paidTag = shown.paid, paid = {};
  async function fetchPart(key) {  // the part as the studio has it now, and its tag
    const r = await fetch(`/part/${encodeURIComponent(key)}`);
    if (!r.ok) return null;
    const box = document.createElement('template');
    box.innerHTML = await r.text();
    return {el: box.content.firstElementChild, tag: r.headers.get('X-Part-Tag')};
  }
  async function patch(parts, keepDrafts) {
    const wanted = parts.filter(([key, tag]) => tags[key] !== tag).map(([key]) => key);
    const fresh = Object.fromEntries(await Promise.all(wanted.map(async (k) => [k, await fetchPart(k)])));
    const restore = keepDrafts();
    const main = document.querySelector('main');
    const changed = [];
    const keep = (key, got, made) => { tags[key] = got.tag; changed.push(made); };
    const header = fresh.header;
    if (header && header.el) {
      const old = document.querySelector('header.series');
      if (old) keep('header', header, replace(old, header.el));
    }
    const sections = parts.filter(([key]) => key !== 'header').map(([key]) => {
      const old = document.getElementById(key), got = fresh[key];
      if (!got || !got.el) return old;  // unchanged (or gone meanwhile: the next event says)
      const made = old && old.matches('section.episode') ? patchSection(old, got.el) : adopt(got.el);
      keep(key, got, made);
      return made;
    }).filter((section) => section);
    const wantedIds = new Set(sections.map((section) => section.id));
    main.querySelectorAll(':scope > section.episode').forEach((section) => {
      if (!wantedIds.has(section.id)) { section.remove(); delete tags[section.id]; } });
    // The fresh order, moving only what is out of place (a playing episode is left where it is
    // when it already is in place): an episode back after a parse error goes where it belongs.
    let previous = null;
    sections.forEach((section) => {
      const place = previous ? previous.nextElementSibling : main.firstElementChild;
      if (section !== place) main.insertBefore(section, place);
      previous = section;
    });
    return {changed, restore};
  }
  async function refresh(event) {
    if (event.paid !== paidTag) {
      paid = (await (await fetch('/state')).json()).paid || {};
      paidTag = event.paid;
    }
    const {changed, restore} = await patch(event.parts, keepDrafts);
    changed.forEach((root) => wire(root, {paid}));
    restore();
  }
  // The notes being written survive a panel's replacement (read just before the page changes).
  function keepDrafts() {
    const drafts = {};
    document.querySelectorAll('article.panel .note-text').forEach((t) => {
      if (t.value) drafts[t.closest('article.panel').id] = t.value; });
    return () => Object.entries(drafts).forEach(([id, text]) => {
      const t = document.getElementById(id)?.querySelector('.note-text'); if (t && !t.value) t.value = text; });
  }
  function showBar(event) {
    const bar = document.getElementById('studio-bar');
    bar.querySelector('.phase').textContent = `${event.phase} · version ${event.version}`;
    const errors = bar.querySelector('.errors');
    errors.textContent = event.errors ? `${event.errors} error(s)` : 'no errors';
    errors.classList.toggle('bad', event.errors > 0);
    document.body.dataset.version = String(event.version);
  }
  // One update at a time, the latest event first: a save's check and its draft may come together.
  let next = null, busy = false;
  async function drain() {
    busy = true;
    while (next) {
      const event = next;
      next = null;
      try { await refresh(event); } catch (error) { console.error(error); }
      document.body.dataset.shown = String(event.version);  // what the page shows now
    }
    busy = false;
  }
  const events = new EventSource('/events');
  events.onmessage = (e) => {
    const event = JSON.parse(e.data);
    if (event.version <= version) return;
    version = event.version;
    showBar(event);
    next = event;
    if (!busy) drain();
  };
  // a waiting breakdown's proposals: Accept puts it in the file's place, Dismiss drops it
  document.addEventListener('click', async (e) => {
    const button = e.target.closest && e.target.closest('button.accept-proposal, button.dismiss-proposal');
    if (!button) return;
    const path = button.classList.contains('accept-proposal') ? '/proposal/accept' : '/proposal/dismiss';
    button.disabled = true;
    const r = await post(path, {file: button.dataset.file, digest: button.dataset.digest});
    if (!r.ok) { alert((await r.json()).error); button.disabled = false; }
  });
  remember(document);
  document.body.dataset.shown = String(version);
  fetch('/state').then((r) => r.json()).then((state) => { paid = state.paid || {}; wire(document, {paid}); });
})();
