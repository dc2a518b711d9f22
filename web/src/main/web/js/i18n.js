// tmc web pages: user interface text in English and Chinese.
//
// Every visible string of the pages lives here, keyed by a short name. Elements in the HTML name their text with
// data-i18n (textContent), data-i18n-title, data-i18n-placeholder or data-i18n-label (aria-label); scripts call
// t(key, params). Text is only ever put into the page as text, never as HTML.

// ===== CONSTANTS =====

const STORAGE_KEY = 'tmc.lang';

export const LANGUAGES = ['en', 'zh'];

const STRINGS = {
    en: {
        'lang.name': 'English',
        // Console
        'console.title': 'Desktop',
        'console.vm': 'VM',
        'state.idle': 'Not connected',
        'state.connecting': 'Connecting…',
        'state.connected': 'Connected',
        'state.disconnecting': 'Disconnecting…',
        'state.disconnected': 'Disconnected',
        'state.waiting': 'Reconnecting in {s} s…',
        'state.retry': 'Next attempt in {s} s (attempt {n}).',
        'state.failed': 'Not connected',
        'viewonly.badge': 'View only',
        'viewonly.hint': 'You can watch this desktop but not control it.',
        'btn.scale': 'Fit to window',
        'btn.fullscreen': 'Full screen',
        'btn.cad': 'Ctrl-Alt-Del',
        'btn.clipboard': 'Clipboard',
        'btn.reconnect': 'Reconnect',
        'btn.reconnectNow': 'Reconnect now',
        'btn.disconnect': 'Disconnect',
        'clipboard.title': 'Clipboard',
        'clipboard.hint': 'Text copied in the VM appears here. Edit it and press Send to paste it into the VM.',
        'clipboard.send': 'Send to VM',
        'clipboard.sent': 'Sent to the VM’s clipboard.',
        'token.missing.title': 'No access token',
        'token.missing.detail': 'Open this console from your portal: the link carries the token that lets you in.',
        'token.expires': 'Access until {time}',
        'token.expired': 'Access ended {time}',
        'reason.4401.title': 'Your access to this console has expired or is not valid',
        'reason.4401.hint': 'Open the console again from your portal to get a fresh link.',
        'reason.4403.title': 'This VM is not yours to open',
        'reason.4403.hint': 'Your account may not open this VM. If you think this is wrong, ask your administrator.',
        'reason.4404.title': 'There is no such VM',
        'reason.4404.hint': 'The VM may have been deleted, or the link is wrong.',
        'reason.4429.title': 'Too many open connections',
        'reason.4429.hint': 'Close other console windows of this VM; tmc will try again.',
        'reason.4502.title': 'The VM cannot be reached',
        'reason.4502.hint': 'It may be stopped or still starting. tmc keeps trying.',
        'reason.1001.title': 'The gateway is restarting',
        'reason.1001.hint': 'tmc reconnects as soon as it is back.',
        'reason.protocol.title': 'The connection broke',
        'reason.protocol.hint': 'Something sent data the other side could not understand. Try Reconnect.',
        'reason.lost.title': 'The connection to the gateway was lost',
        'reason.lost.hint': 'Check your network; tmc keeps trying.',
        'reason.closed.title': 'The session was closed',
        'reason.closed.hint': 'Press Reconnect to open it again.',
        'reason.server': 'Gateway says: “{reason}”',
        'reason.nosupport.title': 'This browser cannot show the console',
        // Admin
        'admin.title': 'tmc admin',
        'admin.signin.title': 'Sign in',
        'admin.signin.hint': 'Paste an admin token (a JWT with the admin role). It stays in this browser tab only.',
        'admin.signin.token': 'Admin token',
        'admin.signin.button': 'Sign in',
        'admin.signout': 'Sign out',
        'admin.signin.bad': 'That is not a token the gateway accepts: {detail}',
        'admin.vms.title': 'VMs',
        'admin.vms.refresh': 'Refresh',
        'admin.vms.id': 'VM',
        'admin.vms.tenant': 'Tenant',
        'admin.vms.status': 'Status',
        'admin.vms.shown': 'On screen',
        'admin.vms.queued': 'Queued',
        'admin.vms.online': 'online',
        'admin.vms.offline': 'offline',
        'admin.vms.none': 'No VMs are configured.',
        'admin.compose.title': 'New message',
        'admin.compose.target': 'Send to',
        'admin.compose.targetVms': 'the VMs ticked in the list',
        'admin.compose.targetTenant': 'every VM of tenant',
        'admin.compose.msgTitle': 'Title',
        'admin.compose.body': 'Text',
        'admin.compose.severity': 'Severity',
        'admin.compose.severity.info': 'Information',
        'admin.compose.severity.warning': 'Warning',
        'admin.compose.severity.critical': 'Critical',
        'admin.compose.buttons': 'Buttons',
        'admin.compose.buttonId': 'id',
        'admin.compose.buttonLabel': 'label',
        'admin.compose.addButton': 'Add button',
        'admin.compose.removeButton': 'Remove',
        'admin.compose.modal': 'Modal (the desktop takes no input until answered)',
        'admin.compose.position': 'Position',
        'admin.compose.ttl': 'Expires after (seconds)',
        'admin.compose.send': 'Send',
        'admin.compose.sent': 'Sent message {id} to {n} VM(s).',
        'admin.compose.noTarget': 'Tick at least one VM, or choose a tenant.',
        'admin.preview.title': 'Preview (as rendered by the gateway)',
        'admin.preview.failed': 'No preview: {detail}',
        'pos.top-left': 'top left', 'pos.top': 'top', 'pos.top-right': 'top right',
        'pos.left': 'left', 'pos.center': 'centre', 'pos.right': 'right',
        'pos.bottom-left': 'bottom left', 'pos.bottom': 'bottom', 'pos.bottom-right': 'bottom right',
        'admin.deliveries.title': 'Deliveries',
        'admin.deliveries.time': 'Time',
        'admin.deliveries.message': 'Message',
        'admin.deliveries.vm': 'VM',
        'admin.deliveries.state': 'State',
        'admin.deliveries.answer': 'Answer',
        'admin.deliveries.error': 'Error',
        'admin.deliveries.none': 'Nothing sent yet.',
        'admin.deliveries.retract': 'Retract',
        'admin.deliveries.by': 'by {client}',
        'admin.live.on': 'Live',
        'admin.live.connecting': 'Connecting to live updates…',
        'admin.live.off': 'Live updates stopped: sign in again',
        'delivery.queued': 'queued', 'delivery.shown': 'shown', 'delivery.answered': 'answered',
        'delivery.expired': 'expired', 'delivery.retracted': 'retracted', 'delivery.failed': 'failed',
        'error.network': 'The gateway did not answer ({detail}).',
        'error.http': 'The gateway refused: {detail}',
    },
    zh: {
        'lang.name': '中文',
        'console.title': '桌面',
        'console.vm': '虚拟机',
        'state.idle': '未连接',
        'state.connecting': '正在连接…',
        'state.connected': '已连接',
        'state.disconnecting': '正在断开…',
        'state.disconnected': '已断开',
        'state.waiting': '{s} 秒后重新连接…',
        'state.retry': '{s} 秒后再次尝试（第 {n} 次）。',
        'state.failed': '未连接',
        'viewonly.badge': '只读',
        'viewonly.hint': '您可以查看此桌面，但不能操作。',
        'btn.scale': '适应窗口',
        'btn.fullscreen': '全屏',
        'btn.cad': 'Ctrl-Alt-Del',
        'btn.clipboard': '剪贴板',
        'btn.reconnect': '重新连接',
        'btn.reconnectNow': '立即重新连接',
        'btn.disconnect': '断开',
        'clipboard.title': '剪贴板',
        'clipboard.hint': '在虚拟机中复制的文字会显示在这里。编辑后按“发送”即可粘贴到虚拟机。',
        'clipboard.send': '发送到虚拟机',
        'clipboard.sent': '已发送到虚拟机的剪贴板。',
        'token.missing.title': '没有访问令牌',
        'token.missing.detail': '请从门户打开此控制台：链接中带有允许您进入的令牌。',
        'token.expires': '访问有效期至 {time}',
        'token.expired': '访问已于 {time} 结束',
        'reason.4401.title': '您对此控制台的访问已过期或无效',
        'reason.4401.hint': '请从门户重新打开控制台以获取新的链接。',
        'reason.4403.title': '您无权打开此虚拟机',
        'reason.4403.hint': '您的账户不能打开此虚拟机。如有疑问，请联系管理员。',
        'reason.4404.title': '没有这台虚拟机',
        'reason.4404.hint': '虚拟机可能已被删除，或链接有误。',
        'reason.4429.title': '打开的连接过多',
        'reason.4429.hint': '请关闭此虚拟机的其他控制台窗口；tmc 会再次尝试。',
        'reason.4502.title': '无法连接到虚拟机',
        'reason.4502.hint': '虚拟机可能已停止或正在启动。tmc 会继续尝试。',
        'reason.1001.title': '网关正在重启',
        'reason.1001.hint': '网关恢复后 tmc 会立即重新连接。',
        'reason.protocol.title': '连接出错',
        'reason.protocol.hint': '一方发送了另一方无法理解的数据。请尝试重新连接。',
        'reason.lost.title': '与网关的连接已中断',
        'reason.lost.hint': '请检查网络；tmc 会继续尝试。',
        'reason.closed.title': '会话已关闭',
        'reason.closed.hint': '按“重新连接”再次打开。',
        'reason.server': '网关消息：“{reason}”',
        'reason.nosupport.title': '此浏览器无法显示控制台',
        'admin.title': 'tmc 管理',
        'admin.signin.title': '登录',
        'admin.signin.hint': '粘贴管理员令牌（带管理员角色的 JWT）。它只保存在此浏览器标签页中。',
        'admin.signin.token': '管理员令牌',
        'admin.signin.button': '登录',
        'admin.signout': '退出',
        'admin.signin.bad': '网关不接受此令牌：{detail}',
        'admin.vms.title': '虚拟机',
        'admin.vms.refresh': '刷新',
        'admin.vms.id': '虚拟机',
        'admin.vms.tenant': '租户',
        'admin.vms.status': '状态',
        'admin.vms.shown': '正在显示',
        'admin.vms.queued': '排队',
        'admin.vms.online': '在线',
        'admin.vms.offline': '离线',
        'admin.vms.none': '没有配置虚拟机。',
        'admin.compose.title': '新消息',
        'admin.compose.target': '发送给',
        'admin.compose.targetVms': '列表中勾选的虚拟机',
        'admin.compose.targetTenant': '租户的所有虚拟机',
        'admin.compose.msgTitle': '标题',
        'admin.compose.body': '正文',
        'admin.compose.severity': '级别',
        'admin.compose.severity.info': '通知',
        'admin.compose.severity.warning': '警告',
        'admin.compose.severity.critical': '紧急',
        'admin.compose.buttons': '按钮',
        'admin.compose.buttonId': 'id',
        'admin.compose.buttonLabel': '文字',
        'admin.compose.addButton': '添加按钮',
        'admin.compose.removeButton': '删除',
        'admin.compose.modal': '模态（回答前桌面不接受输入）',
        'admin.compose.position': '位置',
        'admin.compose.ttl': '有效期（秒）',
        'admin.compose.send': '发送',
        'admin.compose.sent': '消息 {id} 已发送到 {n} 台虚拟机。',
        'admin.compose.noTarget': '请至少勾选一台虚拟机，或选择一个租户。',
        'admin.preview.title': '预览（由网关渲染）',
        'admin.preview.failed': '无法预览：{detail}',
        'pos.top-left': '左上', 'pos.top': '上', 'pos.top-right': '右上',
        'pos.left': '左', 'pos.center': '居中', 'pos.right': '右',
        'pos.bottom-left': '左下', 'pos.bottom': '下', 'pos.bottom-right': '右下',
        'admin.deliveries.title': '投递',
        'admin.deliveries.time': '时间',
        'admin.deliveries.message': '消息',
        'admin.deliveries.vm': '虚拟机',
        'admin.deliveries.state': '状态',
        'admin.deliveries.answer': '回答',
        'admin.deliveries.error': '错误',
        'admin.deliveries.none': '尚未发送任何消息。',
        'admin.deliveries.retract': '撤回',
        'admin.deliveries.by': '来自 {client}',
        'admin.live.on': '实时',
        'admin.live.connecting': '正在连接实时更新…',
        'admin.live.off': '实时更新已停止：请重新登录',
        'delivery.queued': '排队中', 'delivery.shown': '已显示', 'delivery.answered': '已回答',
        'delivery.expired': '已过期', 'delivery.retracted': '已撤回', 'delivery.failed': '失败',
        'error.network': '网关没有响应（{detail}）。',
        'error.http': '网关拒绝：{detail}',
    },
};

// ===== STATE =====

let _lang = 'en';

// ===== PUBLIC FUNCTIONS =====

/** The language: ?lang=, then the one chosen before, then the browser's preference; English by default. */
export function pickLanguage() {
    const asked = new URLSearchParams(location.search).get('lang');
    let stored = null;
    try {
        stored = localStorage.getItem(STORAGE_KEY);
    } catch (e) {
        // Storage may be blocked in a third-party iframe: fall through.
    }
    for (const candidate of [asked, stored, ...(navigator.languages || [navigator.language])]) {
        const short = (candidate || '').toLowerCase().slice(0, 2);
        if (LANGUAGES.includes(short)) {
            return short;
        }
    }
    return 'en';
}

export function language() {
    return _lang;
}

export function setLanguage(lang, remember) {
    _lang = LANGUAGES.includes(lang) ? lang : 'en';
    document.documentElement.lang = _lang === 'zh' ? 'zh-CN' : 'en';
    if (remember) {
        try {
            localStorage.setItem(STORAGE_KEY, _lang);
        } catch (e) {
            // Not remembered; the choice still holds for this page.
        }
    }
    translatePage(document);
}

/** The text for key, with {name} placeholders replaced by params (as text). */
export function t(key, params) {
    const table = STRINGS[_lang];
    let s = key in table ? table[key] : (STRINGS.en[key] ?? key);
    if (params) {
        s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    }
    return s;
}

/** Puts the current language's text into every element that names a key. */
export function translatePage(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) {
        el.textContent = t(el.dataset.i18n);
    }
    for (const el of root.querySelectorAll('[data-i18n-title]')) {
        el.title = t(el.dataset.i18nTitle);
    }
    for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
        el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    for (const el of root.querySelectorAll('[data-i18n-label]')) {
        el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    }
}

/** Fills a <select> with the languages and switches on change. */
export function bindLanguageSelect(select, onChange) {
    select.replaceChildren();
    for (const lang of LANGUAGES) {
        const option = document.createElement('option');
        option.value = lang;
        option.textContent = STRINGS[lang]['lang.name'];
        select.append(option);
    }
    select.value = _lang;
    select.addEventListener('change', () => {
        setLanguage(select.value, true);
        if (onChange) {
            onChange();
        }
    });
}
