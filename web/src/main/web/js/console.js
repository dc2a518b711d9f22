// tmc tenant console: one VM's desktop through the gateway, drawn by noVNC's RFB module.
//
// Address: /console/{vmId}#token=JWT (the portal's link: a fragment never reaches a server or its logs). The token
// is taken out of the address bar and history at once and kept for this tab only (sessionStorage). It never goes
// into a URL: for each connection the page buys a ticket with it (POST /api/v1/tickets, Authorization: Bearer),
// good for one WebSocket to this VM from this origin within seconds, and opens /vnc/{vmId}?ticket=... with that.
// (A ticket rather than a cookie: inside a portal's iframe a cookie is a third-party one, which browsers drop.)
// A token in the query (?token=) is removed from the address and not used: the request line has been logged.
//
// The page opens the WebSocket itself and hands it to RFB, so that it can read the close code and reason the
// gateway sends (RFB's "disconnect" event carries neither) and explain them in words.

import RFB from '../novnc/core/rfb.js';
import * as i18n from './i18n.js';
import { decodePayload } from './jwt.js';
import * as Close from './closecodes.js';

// ===== CONSTANTS =====

const TOKEN_PARAM = 'token';
const TICKET_PATH = 'api/v1/tickets';
/** HTTP refusals of a ticket, as the close code the WebSocket would have given. */
const TICKET_REFUSALS = { 401: Close.UNAUTHORIZED, 403: Close.FORBIDDEN, 429: Close.TOO_MANY };
const STORAGE_PREFIX = 'tmc.token.';
const SUBPROTOCOLS = ['binary'];
/** Refusals a reconnect cannot fix. */
const HOPELESS = new Set(['reason.4401', 'reason.4403', 'reason.4404', 'token.missing']);

// ===== STATE =====

/** idle → connecting → connected → (disconnected | waiting → connecting ...) | failed */
let _state = 'idle';
let _rfb = null;
let _userClosed = false;    // the page is going away: a close is expected, not a failure
let _attempt = 0;           // reconnect attempts since the last successful connect
let _retryTimer = null;
let _retryAt = 0;
let _tickTimer = null;
let _lastNotice = null;     // {key, serverReason, retry} of the card shown, re-rendered on language change
let _scale = true;
let _token = null;
let _claims = null;
let _vmId = '';
let _connectSeq = 0;        // the newest connect(); an older one that resumes after its ticket gives up

const $ = id => document.getElementById(id);

// ===== START =====

function main() {
    i18n.setLanguage(i18n.pickLanguage(), false);
    i18n.bindLanguageSelect($('lang'), rerender);

    _vmId = vmIdFromPath(location.pathname);
    $('vm-name').textContent = _vmId;
    document.title = `${_vmId} · tmc`;
    _token = takeToken(_vmId);
    _claims = decodePayload(_token);
    showClaims();
    bindControls();

    // A portal can hand the console a fresh token by changing the iframe's #token=: used from the next
    // connection on, at once if the console is not connected.
    window.addEventListener('hashchange', () => {
        const token = takeToken(_vmId);
        if (!token || token === _token) {
            return;
        }
        _token = token;
        _claims = decodePayload(token);
        showClaims();
        if (_state !== 'connected' && _state !== 'connecting') {
            _attempt = 0;
            hideNotice();
            connect();
        }
    });
    if (!_token) {
        notice('token.missing', null, false);
        setState('failed');
        return;
    }
    connect();
}

// ===== TOKEN =====

function vmIdFromPath(path) {
    const at = path.lastIndexOf('/console/');
    const raw = at >= 0 ? path.slice(at + '/console/'.length) : '';
    try {
        return decodeURIComponent(raw.split('/')[0]);
    } catch (e) {
        return raw;
    }
}

/** Reads #token=, removes it (and any ?token=) from the address and history, remembers it for this tab. */
function takeToken(vmId) {
    const url = new URL(location.href);
    const hash = new URLSearchParams(url.hash.slice(1));
    const token = hash.get(TOKEN_PARAM);
    if (url.searchParams.has(TOKEN_PARAM) || hash.has(TOKEN_PARAM)) {
        url.searchParams.delete(TOKEN_PARAM);
        hash.delete(TOKEN_PARAM);
        url.hash = hash.toString();
        history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    }
    const key = STORAGE_PREFIX + vmId;
    try {
        if (token) {
            sessionStorage.setItem(key, token);
            return token;
        }
        return sessionStorage.getItem(key);
    } catch (e) {
        return token; // storage blocked (third-party iframe): the token lives in memory only
    }
}

function showClaims() {
    const viewOnly = !!(_claims && _claims.view_only === true);
    $('viewonly').hidden = !viewOnly;
    $('btn-cad').disabled = viewOnly;
    $('clipboard-send').disabled = viewOnly;
    document.body.classList.toggle('view-only', viewOnly);
    if (_claims && typeof _claims.exp === 'number') {
        const time = new Date(_claims.exp * 1000).toLocaleString(i18n.language() === 'zh' ? 'zh-CN' : undefined);
        $('expires').textContent = i18n.t(_claims.exp * 1000 > Date.now() ? 'token.expires' : 'token.expired',
            { time });
    } else {
        $('expires').textContent = '';
    }
}

// ===== CONNECTION =====

function basePath() {
    const path = location.pathname;
    return path.slice(0, path.lastIndexOf('/console/'));
}

function websocketUrl(ticket) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}${basePath()}/vnc/${encodeURIComponent(_vmId)}`
        + `?ticket=${encodeURIComponent(ticket)}`;
}

/** A ticket for one connection to this VM, or {close} saying why the gateway refused one. */
async function buyTicket() {
    let resp;
    try {
        resp = await fetch(`${basePath()}/${TICKET_PATH}`, {
            method: 'POST',
            cache: 'no-store',
            headers: { Authorization: `Bearer ${_token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ purpose: 'console', vm: _vmId }),
        });
    } catch (e) {
        return { close: { code: Close.ABNORMAL, reason: '' } };
    }
    let json = null;
    try {
        json = await resp.json();
    } catch (e) {
        // not JSON: the status says enough
    }
    if (resp.ok && json && typeof json.ticket === 'string') {
        return { ticket: json.ticket };
    }
    const reason = json && typeof json.detail === 'string' ? json.detail : `${resp.status}`;
    return { close: { code: TICKET_REFUSALS[resp.status] || Close.ABNORMAL, reason } };
}

async function connect() {
    clearRetry();
    _userClosed = false;
    setState('connecting');
    const seq = ++_connectSeq;
    const bought = await buyTicket();
    if (seq !== _connectSeq || _userClosed) {
        return; // replaced by a newer connect, or the page is going away
    }
    if (bought.close) {
        ended(bought.close);
        return;
    }
    let socket;
    try {
        socket = new WebSocket(websocketUrl(bought.ticket), SUBPROTOCOLS);
    } catch (e) {
        notice('reason.nosupport', String(e), false);
        setState('failed');
        return;
    }
    // Registered before RFB attaches its own handlers, so the code is known when RFB reports the disconnect.
    const session = { close: null };
    socket.addEventListener('close', e => {
        session.close = { code: e.code, reason: e.reason };
    });
    const rfb = new RFB($('screen'), socket, { wsProtocols: SUBPROTOCOLS, shared: true });
    rfb.scaleViewport = _scale;
    rfb.resizeSession = false;
    rfb.viewOnly = !!(_claims && _claims.view_only === true);
    rfb.background = 'transparent';
    rfb.addEventListener('connect', onConnect);
    rfb.addEventListener('disconnect', () => onDisconnect(rfb, session));
    rfb.addEventListener('clipboard', e => {
        $('clipboard-text').value = e.detail.text;
    });
    rfb.addEventListener('desktopname', e => {
        $('vm-name').title = e.detail.name;
    });
    rfb.addEventListener('securityfailure', e => {
        session.close = { code: Close.PROTOCOL_ERROR, reason: e.detail.reason || '' };
    });
    _rfb = rfb;
}

function onConnect() {
    _attempt = 0;
    hideNotice();
    setState('connected');
    _rfb.focus();
}

function onDisconnect(rfb, session) {
    if (rfb !== _rfb) {
        return; // a late event from a replaced session
    }
    _rfb = null;
    ended(session.close || { code: Close.ABNORMAL, reason: '' });
}

/** After a connection (or the ticket for one) ended: explain why, and retry when that can help. */
function ended(close) {
    if (_userClosed) {
        setState('disconnected');
        notice('reason.closed', null, false);
        return;
    }
    const what = Close.explain(close.code, false);
    if (!what.retry) {
        notice(what.key, close.reason, false);
        setState('failed');
        return;
    }
    _attempt++;
    const wait = Close.backoffMs(close.code, _attempt);
    _retryAt = Date.now() + wait;
    _retryTimer = setTimeout(connect, wait);
    _tickTimer = setInterval(renderRetry, 250);
    setState('waiting');
    notice(what.key, close.reason, true);
}

function clearRetry() {
    clearTimeout(_retryTimer);
    clearInterval(_tickTimer);
    _retryTimer = null;
    _tickTimer = null;
}

// ===== DISPLAY =====

function setState(state) {
    _state = state;
    document.body.dataset.state = state;
    renderState();
    // Reconnecting cannot help a refused token or VM: only a new link can (the card says so).
    const hopeless = state === 'failed' && _lastNotice && HOPELESS.has(_lastNotice.key);
    $('btn-reconnect').hidden = hopeless
        || !(state === 'failed' || state === 'disconnected' || state === 'waiting');
    $('btn-reconnect').textContent = i18n.t(state === 'waiting' ? 'btn.reconnectNow' : 'btn.reconnect');
    $('btn-cad').hidden = state !== 'connected';
}

function renderState() {
    const key = {
        idle: 'state.idle', connecting: 'state.connecting', connected: 'state.connected',
        disconnecting: 'state.disconnecting', disconnected: 'state.disconnected', failed: 'state.failed',
    }[_state];
    if (_state === 'waiting') {
        const s = Math.max(0, Math.ceil((_retryAt - Date.now()) / 1000));
        $('status-text').textContent = i18n.t('state.waiting', { s });
    } else {
        $('status-text').textContent = i18n.t(key);
    }
}

function renderRetry() {
    renderState();
    if (_lastNotice && _lastNotice.retry) {
        const s = Math.max(0, Math.ceil((_retryAt - Date.now()) / 1000));
        $('notice-retry').textContent = i18n.t('state.retry', { s, n: _attempt });
    }
}

/** Shows why the console is not showing the desktop: title, what to do, and the gateway's own words. */
function notice(key, serverReason, retry) {
    _lastNotice = { key, serverReason, retry };
    const box = $('notice');
    box.dataset.reason = key;
    $('notice-title').textContent = i18n.t(`${key}.title`);
    const hintKey = key === 'token.missing' ? 'token.missing.detail' : `${key}.hint`;
    $('notice-hint').textContent = i18n.t(hintKey);
    $('notice-detail').textContent = serverReason ? i18n.t('reason.server', { reason: serverReason }) : '';
    $('notice-retry').textContent = '';
    $('notice-reconnect').hidden = !retry && !(key === 'reason.closed' || key === 'reason.protocol');
    box.hidden = false;
    if (retry) {
        renderRetry();
    }
}

function hideNotice() {
    _lastNotice = null;
    $('notice').hidden = true;
}

function rerender() {
    renderState();
    setState(_state);
    showClaims();
    if (_lastNotice) {
        notice(_lastNotice.key, _lastNotice.serverReason, _lastNotice.retry);
    }
}

// ===== CONTROLS =====

function bindControls() {
    $('btn-scale').addEventListener('click', () => {
        _scale = !_scale;
        $('btn-scale').setAttribute('aria-pressed', String(_scale));
        document.body.classList.toggle('unscaled', !_scale);
        if (_rfb) {
            _rfb.scaleViewport = _scale;
        }
    });
    const fs = $('btn-fullscreen');
    fs.hidden = !document.fullscreenEnabled;
    fs.addEventListener('click', () => {
        if (document.fullscreenElement) {
            document.exitFullscreen();
        } else {
            document.documentElement.requestFullscreen().catch(() => {});
        }
    });
    $('btn-cad').addEventListener('click', () => {
        if (_rfb) {
            _rfb.sendCtrlAltDel();
            _rfb.focus();
        }
    });
    $('btn-clipboard').addEventListener('click', () => {
        const panel = $('clipboard');
        panel.hidden = !panel.hidden;
        $('btn-clipboard').setAttribute('aria-pressed', String(!panel.hidden));
    });
    $('clipboard-send').addEventListener('click', () => {
        if (_rfb) {
            _rfb.clipboardPasteFrom($('clipboard-text').value);
            $('clipboard-note').textContent = i18n.t('clipboard.sent');
            setTimeout(() => { $('clipboard-note').textContent = ''; }, 3000);
        }
    });
    const reconnect = () => {
        _attempt = 0;
        hideNotice();
        connect();
    };
    $('btn-reconnect').addEventListener('click', reconnect);
    $('notice-reconnect').addEventListener('click', reconnect);
    window.addEventListener('pagehide', () => {
        _userClosed = true;
        clearRetry();
        if (_rfb) {
            _rfb.disconnect();
        }
    });
}

main();
