// tmc admin console: sign in with an admin token, see the VMs, compose a message with the gateway's own rendering
// as preview, send it, and follow every delivery live from the server-sent events.
//
// The token stays in this tab (sessionStorage) and goes to the API as "Authorization: Bearer" only, never in a URL.
// EventSource cannot set headers, so for each event stream the page buys a ticket with the token (POST
// /api/v1/tickets) and opens /api/v1/events?ticket=...: single-use, valid for seconds. When the stream ends (the
// gateway restarts, the token expires or is revoked) the page buys a new ticket and resumes from the last event id.
// Everything the server says is put into the page as text (textContent), never as HTML.

import * as i18n from './i18n.js';

// ===== CONSTANTS =====

const API = 'api/v1';
const TOKEN_KEY = 'tmc.adminToken';
const POSITIONS = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom',
    'bottom-right'];
const PREVIEW_WIDTH = 1024;
const PREVIEW_HEIGHT = 768;
const PREVIEW_DEBOUNCE_MS = 250;
const VMS_REFRESH_MS = 5000;
const VMS_AFTER_EVENT_MS = 300;
const MAX_BUTTONS = 4;
const RECENT_MESSAGES = 50;
/** Rows kept in the deliveries table; the oldest go first (the API still has them). */
const MAX_ROWS = 500;
/** Delivery states in the order they can follow one another; later ones win when timestamps tie. */
const STATE_RANK = { queued: 0, shown: 1, answered: 2, expired: 2, retracted: 2, failed: 2 };
const RETRACTABLE = new Set(['queued', 'shown']);
/** Waits before reopening an event stream that ended: doubling, capped. */
const EVENTS_RETRY_FIRST_MS = 1000;
const EVENTS_RETRY_CAP_MS = 30000;

// ===== STATE =====

let _token = null;
let _events = null;
let _eventsSeq = 0;         // the newest openEvents(); older ones give up
let _eventsRetryMs = EVENTS_RETRY_FIRST_MS;
let _eventsTimer = null;
let _lastEventId = null;    // resume point of the next stream
let _vms = [];
const _messages = new Map();    // message id → {title, buttons}
const _deliveries = new Map();  // message id + "\n" + vm → {message, vm, state, at, reply, error, row}
let _previewTimer = null;
let _previewSeq = 0;
let _previewUrl = null;
let _vmsTimer = null;
let _vmsSoon = null;

const $ = id => document.getElementById(id);

class ApiError extends Error {
    constructor(status, error, detail) {
        super(detail);
        this.status = status;
        this.error = error;
        this.detail = detail;
    }
}

// ===== START =====

function main() {
    i18n.setLanguage(i18n.pickLanguage(), false);
    i18n.bindLanguageSelect($('lang'), rerender);
    fillPositions();
    addButtonRow('ok', 'OK');
    bindControls();
    setLive('off');
    // A link opened on this page again (/admin#token=...) changes only the fragment: no new page load.
    window.addEventListener('hashchange', () => {
        const token = takeLinkToken();
        if (token) {
            signIn(token, false);
        }
    });
    const linked = takeLinkToken();
    if (linked) {
        signIn(linked, false);
        return;
    }
    let stored = null;
    try {
        stored = sessionStorage.getItem(TOKEN_KEY);
    } catch (e) {
        // no storage: sign in each time
    }
    if (stored) {
        signIn(stored, true);
    }
}

/** A token in the link (/admin#token=..., as `make demo` prints it), taken out of the address bar and history. */
function takeLinkToken() {
    const url = new URL(location.href);
    const hash = new URLSearchParams(url.hash.slice(1));
    const token = hash.get('token') || url.searchParams.get('token');
    if (hash.has('token') || url.searchParams.has('token')) {
        hash.delete('token');
        url.searchParams.delete('token');
        url.hash = hash.toString();
        history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    }
    return token;
}

// ===== API =====

async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${_token}` };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    let resp;
    try {
        resp = await fetch(API + path, init);
    } catch (e) {
        throw new ApiError(0, 'network', i18n.t('error.network', { detail: String(e.message || e) }));
    }
    if (!resp.ok) {
        let json = null;
        try {
            json = await resp.json();
        } catch (e) {
            // not JSON: use the status line
        }
        const detail = json && typeof json.detail === 'string' ? json.detail : `${resp.status} ${resp.statusText}`;
        if (resp.status === 401 && document.body.dataset.signedIn === 'true') {
            // The token expired or was revoked while the page was open: back to the sign-in form, saying why.
            signOut();
            $('signin-error').textContent = i18n.t('admin.signin.bad', { detail });
        }
        throw new ApiError(resp.status, json && json.error ? String(json.error) : 'http', detail);
    }
    return resp;
}

function describe(e) {
    if (e instanceof ApiError) {
        return e.status === 0 ? e.detail : i18n.t('error.http', { detail: e.detail });
    }
    return String(e && e.message ? e.message : e);
}

// ===== SIGN IN =====

async function signIn(token, quiet) {
    _token = token.trim();
    $('signin-error').textContent = '';
    try {
        const resp = await api('GET', '/vms');
        showVms((await resp.json()).vms);
    } catch (e) {
        _token = null;
        if (!quiet) {
            $('signin-error').textContent = e instanceof ApiError && (e.status === 401 || e.status === 403)
                ? i18n.t('admin.signin.bad', { detail: e.detail }) : describe(e);
        }
        try {
            sessionStorage.removeItem(TOKEN_KEY);
        } catch (ignored) {
            // nothing stored
        }
        return;
    }
    try {
        sessionStorage.setItem(TOKEN_KEY, _token);
    } catch (e) {
        // kept in memory only
    }
    $('token').value = '';
    document.body.dataset.signedIn = 'true';
    $('signin').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    openEvents();
    loadRecent();
    schedulePreview();
    clearInterval(_vmsTimer);
    _vmsTimer = setInterval(refreshVms, VMS_REFRESH_MS);
}

function signOut() {
    _token = null;
    try {
        sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
        // nothing stored
    }
    closeEvents();
    _lastEventId = null;
    clearInterval(_vmsTimer);
    setLive('off');
    _deliveries.clear();
    _messages.clear();
    $('deliveries').tBodies[0].replaceChildren();
    updateEmpty();
    document.body.dataset.signedIn = 'false';
    $('signin').hidden = false;
    $('app').hidden = true;
    $('signout').hidden = true;
}

// ===== VMS =====

async function refreshVms() {
    if (!_token) {
        return;
    }
    try {
        const resp = await api('GET', '/vms');
        showVms((await resp.json()).vms);
        $('vms-error').textContent = '';
    } catch (e) {
        $('vms-error').textContent = describe(e);
    }
}

function refreshVmsSoon() {
    clearTimeout(_vmsSoon);
    _vmsSoon = setTimeout(refreshVms, VMS_AFTER_EVENT_MS);
}

function showVms(vms) {
    _vms = Array.isArray(vms) ? vms : [];
    const body = $('vms').tBodies[0];
    const ticked = new Set([...body.querySelectorAll('input[type=checkbox]:checked')].map(c => c.value));
    body.replaceChildren();
    for (const vm of _vms) {
        const tr = document.createElement('tr');
        tr.dataset.vm = vm.id;
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.value = vm.id;
        box.checked = ticked.has(vm.id);
        box.setAttribute('aria-label', vm.id);
        cell(tr).append(box);
        cell(tr, vm.id);
        cell(tr, vm.tenant ?? '');
        const online = vm.qmpConnected === true;
        cell(tr, i18n.t(online ? 'admin.vms.online' : 'admin.vms.offline')).className =
            online ? 'vm-online' : 'vm-offline';
        const shown = vm.shownMessage ? (_messages.get(vm.shownMessage)?.title ?? vm.shownMessage) : '—';
        cell(tr, shown);
        cell(tr, String(vm.queued ?? 0));
        body.append(tr);
    }
    if (_vms.length === 0) {
        const tr = document.createElement('tr');
        const td = cell(tr, i18n.t('admin.vms.none'));
        td.colSpan = 6;
        td.className = 'muted';
        body.append(tr);
    }
    const tenant = $('tenant');
    const chosen = tenant.value;
    const tenants = [...new Set(_vms.map(v => v.tenant).filter(t => t))].sort();
    tenant.replaceChildren(...tenants.map(t => {
        const o = document.createElement('option');
        o.value = t;
        o.textContent = t;
        return o;
    }));
    if (tenants.includes(chosen)) {
        tenant.value = chosen;
    }
}

function cell(tr, text) {
    const td = document.createElement('td');
    if (text !== undefined) {
        td.textContent = text;
    }
    tr.append(td);
    return td;
}

// ===== COMPOSE =====

function fillPositions() {
    const select = $('position');
    const chosen = select.value || 'center';
    select.replaceChildren(...POSITIONS.map(p => {
        const o = document.createElement('option');
        o.value = p;
        o.textContent = i18n.t(`pos.${p}`);
        return o;
    }));
    select.value = chosen;
}

function addButtonRow(id, label) {
    const rows = $('buttons');
    if (rows.children.length >= MAX_BUTTONS) {
        return;
    }
    const row = document.createElement('div');
    row.className = 'button-row';
    const idInput = document.createElement('input');
    idInput.type = 'text';
    idInput.className = 'button-id';
    idInput.value = id;
    idInput.maxLength = 32;
    idInput.dataset.i18nPlaceholder = 'admin.compose.buttonId';
    idInput.placeholder = i18n.t('admin.compose.buttonId');
    const labelInput = document.createElement('input');
    labelInput.type = 'text';
    labelInput.className = 'button-label';
    labelInput.value = label;
    labelInput.maxLength = 40;
    labelInput.dataset.i18nPlaceholder = 'admin.compose.buttonLabel';
    labelInput.placeholder = i18n.t('admin.compose.buttonLabel');
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'button-remove';
    remove.dataset.i18n = 'admin.compose.removeButton';
    remove.textContent = i18n.t('admin.compose.removeButton');
    remove.addEventListener('click', () => {
        if (rows.children.length > 1) {
            row.remove();
            updateButtonControls();
            schedulePreview();
        }
    });
    row.append(idInput, labelInput, remove);
    rows.append(row);
    updateButtonControls();
}

function updateButtonControls() {
    const n = $('buttons').children.length;
    $('add-button').disabled = n >= MAX_BUTTONS;
    for (const b of $('buttons').querySelectorAll('.button-remove')) {
        b.disabled = n <= 1;
    }
}

function buttons() {
    return [...$('buttons').children].map(row => ({
        id: row.querySelector('.button-id').value.trim(),
        label: row.querySelector('.button-label').value,
    }));
}

function composed() {
    return {
        title: $('title').value,
        body: $('body').value,
        severity: $('severity').value,
        buttons: buttons(),
    };
}

function schedulePreview() {
    $('preview-screen').dataset.position = $('position').value;
    clearTimeout(_previewTimer);
    _previewTimer = setTimeout(renderPreview, PREVIEW_DEBOUNCE_MS);
}

async function renderPreview() {
    if (!_token) {
        return;
    }
    const seq = ++_previewSeq;
    try {
        const resp = await api('POST', '/render',
            { ...composed(), width: PREVIEW_WIDTH, height: PREVIEW_HEIGHT });
        const blob = await resp.blob();
        if (seq !== _previewSeq) {
            return; // a newer preview is on its way
        }
        const img = $('preview');
        if (_previewUrl) {
            URL.revokeObjectURL(_previewUrl);
        }
        _previewUrl = URL.createObjectURL(blob);
        img.onload = () => {
            // Same proportion of the mock screen as of a PREVIEW_WIDTH-wide desktop.
            img.style.width = `${(img.naturalWidth / PREVIEW_WIDTH) * 100}%`;
        };
        img.src = _previewUrl;
        img.alt = $('title').value;
        img.hidden = false;
        $('preview-error').textContent = '';
    } catch (e) {
        if (seq === _previewSeq) {
            $('preview').hidden = true;
            $('preview-error').textContent = i18n.t('admin.preview.failed', { detail: e.detail || describe(e) });
        }
    }
}

async function send(event) {
    event.preventDefault();
    const result = $('send-result');
    result.className = '';
    result.textContent = '';
    delete result.dataset.i18nSent;
    const message = composed();
    message.modal = $('modal').checked;
    message.position = $('position').value;
    message.ttlSeconds = Number.parseInt($('ttl').value, 10);
    const byTenant = document.querySelector('input[name=target]:checked').value === 'tenant';
    if (byTenant) {
        message.tenant = $('tenant').value;
    } else {
        message.vms = [...$('vms').tBodies[0].querySelectorAll('input[type=checkbox]:checked')].map(c => c.value);
    }
    if (byTenant ? !message.tenant : message.vms.length === 0) {
        result.className = 'error';
        result.textContent = i18n.t('admin.compose.noTarget');
        return;
    }
    $('send').disabled = true;
    try {
        const resp = await api('POST', '/messages', message);
        const created = await resp.json();
        _messages.set(created.id, { title: message.title, buttons: message.buttons });
        // Stamped with the gateway's time of the state, never the page's: the event stream may have brought a
        // later state (shown) before this answer arrived, and it must stay. (The page's clock is not the
        // gateway's; "now" here is later than a "shown" the gateway recorded a moment ago.)
        for (const d of created.deliveries || []) {
            const at = d.finishedAt || d.shownAt || d.queuedAt || null;
            upsert({ message: created.id, vm: d.vm, state: d.state, at, reply: d.reply || null,
                error: d.error || null });
        }
        const params = { id: created.id, n: (created.deliveries || []).length };
        result.dataset.i18nSent = JSON.stringify(params);
        result.textContent = i18n.t('admin.compose.sent', params);
        refreshVmsSoon();
    } catch (e) {
        result.className = 'error';
        result.textContent = describe(e);
    } finally {
        $('send').disabled = false;
    }
}

// ===== DELIVERIES =====

async function loadRecent() {
    try {
        const resp = await api('GET', `/messages?limit=${RECENT_MESSAGES}`);
        const list = (await resp.json()).messages || [];
        for (const m of list.slice().reverse()) {
            rememberMessage(m);
        }
    } catch (e) {
        $('vms-error').textContent = describe(e);
    }
}

function rememberMessage(m) {
    _messages.set(m.id, { title: m.title, buttons: m.buttons || [] });
    for (const d of m.deliveries || []) {
        const at = d.finishedAt || d.shownAt || d.queuedAt || m.createdAt;
        upsert({ message: m.id, vm: d.vm, state: d.state, at, reply: d.reply, error: d.error });
    }
}

async function onDelivery(event) {
    if (!event || typeof event.message !== 'string' || typeof event.vm !== 'string') {
        return;
    }
    upsert({
        message: event.message, vm: event.vm, state: event.state, at: event.at,
        reply: event.reply || null, error: event.error || null,
    });
    refreshVmsSoon();
    if (!_messages.has(event.message)) {
        // Sent by someone else (another admin, the API): fetch its title once.
        _messages.set(event.message, { title: event.message, buttons: [] });
        try {
            const resp = await api('GET', `/messages/${encodeURIComponent(event.message)}`);
            rememberMessage(await resp.json());
            for (const d of _deliveries.values()) {
                if (d.message === event.message) {
                    renderRow(d);
                }
            }
        } catch (e) {
            // the title stays the id
        }
    }
}

/** An ISO time as milliseconds (0 when absent): "…58.1Z" is before "…58.117Z", which a string comparison denies. */
function millis(at) {
    return Date.parse(at || '') || 0;
}

/**
 * Merges a delivery state; an older report (by the gateway's time, then by state order) never overwrites a newer
 * one. A report without a time counts as the oldest.
 */
function upsert(update) {
    const key = `${update.message}\n${update.vm}`;
    const old = _deliveries.get(key);
    if (old) {
        const newer = millis(update.at) > millis(old.at) || (millis(update.at) === millis(old.at)
            && (STATE_RANK[update.state] ?? 0) >= (STATE_RANK[old.state] ?? 0));
        if (!newer) {
            return;
        }
        Object.assign(old, update);
        renderRow(old);
        return;
    }
    const d = { ...update, row: document.createElement('tr') };
    _deliveries.set(key, d);
    $('deliveries').tBodies[0].prepend(d.row);
    if (_deliveries.size > MAX_ROWS) {
        const [oldestKey, oldest] = _deliveries.entries().next().value;
        oldest.row.remove();
        _deliveries.delete(oldestKey);
    }
    renderRow(d);
    updateEmpty();
}

function renderRow(d) {
    const tr = d.row;
    tr.replaceChildren();
    tr.dataset.message = d.message;
    tr.dataset.vm = d.vm;
    tr.dataset.state = d.state;
    const meta = _messages.get(d.message);
    const at = d.at ? new Date(d.at) : null;
    cell(tr, at && !Number.isNaN(at.getTime()) ? at.toLocaleTimeString(i18n.language() === 'zh' ? 'zh-CN' : undefined) : '');
    const title = cell(tr, meta && meta.title ? meta.title : d.message);
    title.title = d.message;
    cell(tr, d.vm);
    const state = cell(tr, i18n.t(`delivery.${d.state}`));
    state.className = `state state-${d.state}`;
    const answer = cell(tr);
    answer.className = 'answer';
    if (d.reply && d.reply.button) {
        tr.dataset.button = d.reply.button;
        const button = meta && meta.buttons ? meta.buttons.find(b => b.id === d.reply.button) : null;
        const strong = document.createElement('strong');
        strong.textContent = button ? `${button.label} (${d.reply.button})` : d.reply.button;
        answer.append(strong);
        const client = describeClient(d.reply.client);
        if (client) {
            answer.append(document.createElement('br'), document.createTextNode(i18n.t('admin.deliveries.by', { client })));
        }
    } else {
        delete tr.dataset.button;
    }
    const error = cell(tr, d.error || '');
    error.className = 'error';
    const actions = cell(tr);
    if (RETRACTABLE.has(d.state)) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'retract';
        b.textContent = i18n.t('admin.deliveries.retract');
        b.addEventListener('click', () => retract(d.message, b));
        actions.append(b);
    }
}

function describeClient(client) {
    if (!client || typeof client !== 'object') {
        return '';
    }
    const host = typeof client.host === 'string' ? client.host : '';
    const service = client.service !== undefined && client.service !== null ? String(client.service) : '';
    return host && service ? `${host}:${service}` : host;
}

async function retract(messageId, button) {
    button.disabled = true;
    try {
        const resp = await api('DELETE', `/messages/${encodeURIComponent(messageId)}`);
        rememberMessage(await resp.json());
        refreshVmsSoon();
    } catch (e) {
        button.disabled = false;
        $('send-result').className = 'error';
        $('send-result').textContent = describe(e);
    }
}

function updateEmpty() {
    $('deliveries-empty').hidden = _deliveries.size > 0;
}

// ===== LIVE EVENTS =====

function closeEvents() {
    _eventsSeq++;
    clearTimeout(_eventsTimer);
    if (_events) {
        _events.close();
        _events = null;
    }
}

async function openEvents() {
    closeEvents();
    const seq = _eventsSeq;
    setLive('connecting');
    let ticket;
    try {
        const resp = await api('POST', '/tickets', { purpose: 'events' });
        ticket = (await resp.json()).ticket;
    } catch (e) {
        // A refused token has signed the page out already (api()); anything else is worth another try.
        if (seq === _eventsSeq && _token) {
            retryEvents();
        }
        return;
    }
    if (seq !== _eventsSeq || !_token) {
        return;
    }
    const resume = _lastEventId === null ? '' : `&lastEventId=${encodeURIComponent(_lastEventId)}`;
    const es = new EventSource(`${API}/events?ticket=${encodeURIComponent(ticket)}${resume}`);
    es.addEventListener('open', () => {
        setLive('on');
        _eventsRetryMs = EVENTS_RETRY_FIRST_MS;
    });
    es.addEventListener('error', () => {
        // The ticket was spent on the first connection: EventSource's own retry would present it again and be
        // refused, so the page reopens with a fresh ticket, from the last event it saw.
        if (seq === _eventsSeq) {
            es.close();
            _events = null;
            retryEvents();
        }
    });
    es.addEventListener('delivery', e => {
        if (e.lastEventId) {
            _lastEventId = e.lastEventId;
            $('live').dataset.lastEvent = e.lastEventId; // what this page has heard, for whoever looks
        }
        let data = null;
        try {
            data = JSON.parse(e.data);
        } catch (ignored) {
            return;
        }
        onDelivery(data);
    });
    _events = es;
}

function retryEvents() {
    setLive('connecting');
    clearTimeout(_eventsTimer);
    _eventsTimer = setTimeout(openEvents, _eventsRetryMs);
    _eventsRetryMs = Math.min(EVENTS_RETRY_CAP_MS, _eventsRetryMs * 2);
}

function setLive(state) {
    const live = $('live');
    live.dataset.live = state;
    live.textContent = i18n.t(state === 'on' ? 'admin.live.on'
        : state === 'connecting' ? 'admin.live.connecting' : 'admin.live.off');
    live.hidden = !_token && state === 'off';
}

// ===== CONTROLS =====

function bindControls() {
    $('signin-form').addEventListener('submit', e => {
        e.preventDefault();
        signIn($('token').value, false);
    });
    $('signout').addEventListener('click', signOut);
    $('vms-refresh').addEventListener('click', refreshVms);
    $('add-button').addEventListener('click', () => {
        const n = $('buttons').children.length + 1;
        addButtonRow(`b${n}`, `Button ${n}`);
        schedulePreview();
    });
    $('compose').addEventListener('input', schedulePreview);
    $('compose').addEventListener('change', schedulePreview);
    $('compose').addEventListener('submit', send);
}

function rerender() {
    fillPositions();
    const result = $('send-result');
    if (result.dataset.i18nSent) {
        result.textContent = i18n.t('admin.compose.sent', JSON.parse(result.dataset.i18nSent));
    }
    setLive($('live').dataset.live);
    showVms(_vms);
    for (const d of _deliveries.values()) {
        renderRow(d);
    }
}

main();
