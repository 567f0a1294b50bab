// The wallet page's behaviour: sign-in by token, balance, send form, recent
// transactions, and live notifications over the WebSocket of API.md with
// reconnection and `since` resume. Plain DOM, no framework, no request but to
// this page's own origin. Every value from the server is inserted with
// textContent (never as HTML), so markup in a note is shown literally.
'use strict';

(() => {
  // Limits and timings, each bounded.
  const kFetchTimeoutMs = 15000;        // One HTTP request, body included.
  const kConnectTimeoutMs = 10000;      // WebSocket open until the `connected` message.
  const kBackoffInitialMs = 250;        // First reconnect delay; doubles per failure...
  const kBackoffMaxMs = 5000;           // ...up to this cap.
  const kPingIntervalMs = 20000;        // Idle time after which the page pings...
  const kPongTimeoutMs = 10000;         // ...and gives the connection up without an answer.
  const kProbeEveryFailures = 3;        // Check the token over HTTP after this many failed connects.
  const kNotificationsMax = 50;         // Notifications kept on screen.
  const kTransactionsLimit = 10;        // Recent transactions shown.
  const kTransactionsDebounceMs = 150;  // Coalesces refreshes when messages come in bursts.
  const kSentIdsMax = 100;              // Ids of own sends seen on the socket, for lost answers.
  const kTokenStorageKey = 'sbd.wallet.token';

  const byId = (id) => document.getElementById(id);
  const el = {
    connection: byId('connection-state'),
    signOut: byId('sign-out'),
    signin: byId('signin'),
    signinForm: byId('signin-form'),
    tokenInput: byId('token-input'),
    signinError: byId('signin-error'),
    signinButton: byId('signin-button'),
    wallet: byId('wallet'),
    username: byId('username'),
    balance: byId('balance'),
    sendForm: byId('send-form'),
    to: byId('to'),
    amount: byId('amount'),
    note: byId('note'),
    sendError: byId('send-error'),
    sendStatus: byId('send-status'),
    sendButton: byId('send-button'),
    notifications: byId('notifications'),
    notificationsEmpty: byId('notifications-empty'),
    transactions: byId('transactions'),
    transactionsEmpty: byId('transactions-empty'),
    transactionsError: byId('transactions-error'),
    transactionsRefresh: byId('transactions-refresh'),
  };

  const state = {
    token: null,
    signedIn: false,
    username: null,
    balance: null,
    balanceSeq: -1,      // Log position at which `balance` was true (-1: unknown).
    lastSeq: null,       // Highest message seq seen; the `since` of the next connect.
    ws: null,
    wsGeneration: 0,     // Bumped to disown a socket: its late events are ignored.
    failures: 0,         // Connection attempts failed in a row.
    reconnectTimer: null,
    reconnectAt: 0,
    connectTimer: null,
    pingTimer: null,
    pongTimer: null,
    expiryTimer: null,
    transactionsTimer: null,
    transactionsGeneration: 0,
    sending: false,
    pendingSend: null,   // {key, id, to, amount}: the id to reuse when the same send is retried.
    sentIds: new Set(),  // transaction_ids of recent `sbd_tokens_sent` messages.
    flashTimer: null,
  };

  // ---------------------------------------------------------------- text

  function tokensText(amount) {
    return amount === 1 ? '1 SBD token' : `${amount} SBD tokens`;
  }

  // The sentence of a notification message and its optional second line.
  function describeMessage(message) {
    const data = message.data || {};
    switch (message.type) {
      case 'sbd_tokens_received':
        return {
          text: `You received ${tokensText(data.amount)} from ${data.from_username}.`,
          detail: typeof data.note === 'string' && data.note !== '' ? `Note: ${data.note}` : '',
        };
      case 'sbd_tokens_sent':
        return {
          text: `You sent ${tokensText(data.amount)} to ${data.to_username}.`,
          detail: typeof data.note === 'string' && data.note !== '' ? `Note: ${data.note}` : '',
        };
      case 'sbd_tokens_credited':
        return {
          text: `You were credited ${tokensText(data.amount)}.`,
          detail: typeof data.reason === 'string' && data.reason !== '' ? `Reason: ${data.reason}` : '',
        };
      default:
        return null;
    }
  }

  // One sentence per error code of API.md. `context.to` names the recipient.
  function describeError(result, context = {}) {
    if (result.network) {
      return context.sending
        ? 'Could not reach the server, so the transfer may or may not have gone through. ' +
          'Press Send again to retry: the same transfer is never applied twice.'
        : 'Could not reach the server. Check the connection and try again.';
    }
    const to = context.to ? `“${context.to}”` : 'that name';
    switch (result.code) {
      case 'insufficient_funds':
        return 'Insufficient funds: you do not have enough SBD tokens for this transfer.';
      case 'account_not_found':
        return context.sending
          ? `Unknown recipient: there is no account named ${to}.`
          : 'There is no account for this user on the ledger.';
      case 'invalid_amount':
        return 'Invalid amount: enter a whole number of SBD tokens, at least 1.';
      case 'invalid_username':
        return `Invalid recipient: ${to} is not a valid username ` +
               '(1 to 64 characters: lowercase letters, digits, “_”, “.” or “-”).';
      case 'self_transfer':
        return 'You cannot send SBD tokens to yourself.';
      case 'balance_overflow':
        return 'The transfer was refused: the recipient’s balance would exceed the largest allowed amount.';
      case 'missing_fields':
        return 'Please enter a recipient and an amount.';
      case 'invalid_field':
        return 'One of the fields is not valid (a note may be at most 500 characters).';
      case 'invalid_json':
        return 'The server could not read the request. Reload the page and try again.';
      case 'unauthorized':
        return 'Your session is no longer valid: the token is invalid or has expired. Please sign in again.';
      case 'forbidden':
        return 'You are not allowed to do that.';
      case 'transaction_not_found':
        return 'That transaction was not found.';
      case 'transaction_id_conflict':
        return 'This transfer clashed with an earlier one that used the same transaction id. Press Send to try again.';
      case 'payload_too_large':
        return 'The request is too large. Shorten the note and try again.';
      case 'rate_limited': {
        const wait = Number.parseInt(result.retryAfter || '', 10);
        return Number.isFinite(wait) && wait > 0
          ? `You are sending too fast. Wait ${wait} s and try again.`
          : 'You are sending too fast. Wait a moment and try again.';
      }
      case 'unavailable':
        return 'The ledger is temporarily unavailable and nothing was sent. Please try again shortly.';
      case 'not_found':
      case 'method_not_allowed':
        return 'The server does not offer this operation. Reload the page and try again.';
      case 'account_exists':
        return 'That account already exists.';
      default:
        return `The server answered with an error (HTTP ${result.status}).`;
    }
  }

  // ---------------------------------------------------------------- helpers

  // A UUID v4 for transaction ids; randomUUID needs a secure context, so fall
  // back to getRandomValues (available everywhere) when served over plain http.
  function newTransactionId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // The claims of a JWT, unverified: only to show a name before the server
  // answers and to know when the token expires. The server decides.
  function tokenClaims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === 'object' ? claims : {};
    } catch {
      return {};
    }
  }

  function formatTime(timestamp) {
    const date = new Date(timestamp);
    if (typeof timestamp !== 'string' || Number.isNaN(date.getTime())) return '';
    const sameDay = date.toDateString() === new Date().toDateString();
    return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
  }

  function timeElement(timestamp) {
    const time = document.createElement('time');
    if (typeof timestamp === 'string') time.dateTime = timestamp;
    time.textContent = formatTime(timestamp);
    return time;
  }

  function show(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  // An HTTP call to this origin with the bearer token and a bounded time.
  // Resolves to {ok, status, data} or {ok:false, status, code, retryAfter} or
  // {ok:false, network:true}; never rejects.
  async function api(method, path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), kFetchTimeoutMs);
    try {
      const headers = { Authorization: `Bearer ${state.token}`, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      if (response.ok) return { ok: true, status: response.status, data: data || {} };
      return {
        ok: false,
        status: response.status,
        code: data && typeof data.code === 'string' ? data.code : null,
        retryAfter: response.headers.get('Retry-After'),
      };
    } catch {
      return { ok: false, status: 0, network: true };
    } finally {
      clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------- view

  const kConnectionText = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };

  function setConnection(name, title) {
    el.connection.dataset.state = name;
    el.connection.textContent = kConnectionText[name];
    el.connection.title = title || '';
  }

  function setUsername(name) {
    if (typeof name !== 'string' || name === '') return;
    state.username = name;
    el.username.textContent = name;
    document.title = `${name} · SBD Wallet`;
  }

  // Shows `value` unless a newer balance is already shown: `seq` is the log
  // position the value is true at (null when unknown, as for GET /sbd_tokens).
  function setBalance(value, seq) {
    if (!Number.isSafeInteger(value)) return;
    if (Number.isSafeInteger(seq)) {
      if (seq < state.balanceSeq) return;
      state.balanceSeq = seq;
    }
    if (value === state.balance) return;
    const previous = state.balance;
    state.balance = value;
    el.balance.textContent = String(value);
    el.balance.dataset.value = String(value);
    if (previous !== null) {
      el.balance.classList.remove('flash-up', 'flash-down');
      el.balance.classList.add(value > previous ? 'flash-up' : 'flash-down');
      clearTimeout(state.flashTimer);
      state.flashTimer = setTimeout(() => el.balance.classList.remove('flash-up', 'flash-down'), 1200);
    }
  }

  function addNotification(message) {
    const described = describeMessage(message);
    if (!described) return;
    const item = document.createElement('li');
    item.dataset.type = message.type;
    item.dataset.seq = String(message.seq);
    item.dataset.testid = 'notification';
    const text = document.createElement('span');
    text.className = 'message';
    text.textContent = described.text;
    item.append(text);
    if (described.detail) {
      const detail = document.createElement('span');
      detail.className = 'detail';
      detail.textContent = described.detail;
      item.append(detail);
    }
    item.append(timeElement(message.data && message.data.timestamp));
    el.notifications.prepend(item);
    while (el.notifications.children.length > kNotificationsMax) el.notifications.lastElementChild.remove();
    el.notificationsEmpty.hidden = true;
  }

  function renderTransactions(list) {
    const items = [];
    for (const tx of list) {
      if (!tx || typeof tx !== 'object') continue;
      const item = document.createElement('li');
      item.dataset.testid = 'transaction';
      item.dataset.type = String(tx.type);
      if (tx.seq !== undefined) item.dataset.seq = String(tx.seq);
      if (typeof tx.transaction_id === 'string') item.dataset.transactionId = tx.transaction_id;

      const title = document.createElement('span');
      title.className = 'tx-title';
      const amount = document.createElement('span');
      amount.className = 'tx-amount';
      if (tx.type === 'send') {
        title.textContent = `Sent to ${tx.to}`;
        amount.textContent = `−${tx.amount}`;
        amount.classList.add('out');
      } else if (tx.type === 'receive') {
        title.textContent = `Received from ${tx.from}`;
        amount.textContent = `+${tx.amount}`;
        amount.classList.add('in');
      } else {
        title.textContent = tx.type === 'mint' ? 'Credited' : String(tx.type);
        amount.textContent = `+${tx.amount}`;
        amount.classList.add('in');
      }

      const meta = document.createElement('span');
      meta.className = 'tx-meta';
      meta.append(timeElement(tx.timestamp));
      const balance = document.createElement('span');
      balance.className = 'tx-balance';
      balance.textContent = Number.isSafeInteger(tx.new_balance) ? `Balance ${tx.new_balance}` : '';

      item.append(title, amount, meta, balance);
      const noteText = typeof tx.note === 'string' ? tx.note : typeof tx.reason === 'string' ? tx.reason : '';
      if (noteText !== '') {
        const note = document.createElement('span');
        note.className = 'tx-note';
        note.dataset.testid = 'transaction-note';
        note.textContent = noteText;
        item.append(note);
      }
      items.push(item);
    }
    el.transactions.replaceChildren(...items);
    el.transactionsEmpty.hidden = items.length > 0;
  }

  // ---------------------------------------------------------------- data

  function scheduleTransactionsRefresh() {
    clearTimeout(state.transactionsTimer);
    state.transactionsTimer = setTimeout(refreshTransactions, kTransactionsDebounceMs);
  }

  async function refreshTransactions() {
    clearTimeout(state.transactionsTimer);
    if (!state.signedIn) return;
    const generation = ++state.transactionsGeneration;
    const result = await api('GET', `/sbd_tokens/transactions?limit=${kTransactionsLimit}`);
    if (generation !== state.transactionsGeneration || !state.signedIn) return;  // A newer one ran.
    if (result.ok && Array.isArray(result.data.transactions)) {
      show(el.transactionsError, '');
      renderTransactions(result.data.transactions);
    } else if (result.status === 401) {
      signOut(describeError(result));
    } else {
      show(el.transactionsError, `Could not load the transactions. ${describeError(result)}`);
    }
  }

  // ---------------------------------------------------------------- WebSocket

  function clearConnectionTimers() {
    clearTimeout(state.reconnectTimer);
    clearTimeout(state.connectTimer);
    clearTimeout(state.pingTimer);
    clearTimeout(state.pongTimer);
    state.reconnectTimer = state.connectTimer = state.pingTimer = state.pongTimer = null;
  }

  // Disowns the current socket (its later events are ignored) and closes it.
  function dropSocket() {
    state.wsGeneration += 1;
    clearConnectionTimers();
    if (state.ws) {
      try {
        state.ws.close(1000);
      } catch {
        // Already closing.
      }
      state.ws = null;
    }
  }

  function connect() {
    dropSocket();
    if (!state.signedIn) return;
    const generation = state.wsGeneration;
    const params = new URLSearchParams({ token: state.token });
    if (state.lastSeq !== null) params.set('since', String(state.lastSeq));
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    setConnection(state.failures === 0 && state.lastSeq === null ? 'connecting' : 'reconnecting');
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/ws?${params}`);
    } catch {
      onSocketLost(null, false);
      return;
    }
    state.ws = ws;
    let greeted = false;
    state.connectTimer = setTimeout(() => {
      if (generation !== state.wsGeneration) return;
      dropSocket();
      onSocketLost(null, false);
    }, kConnectTimeoutMs);

    ws.onmessage = (event) => {
      if (generation !== state.wsGeneration) return;
      armPing();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message !== 'object') return;
      if (message.type === 'connected') {
        greeted = true;
        clearTimeout(state.connectTimer);
        onConnected(message);
      } else if (message.type !== 'pong') {
        onEvent(message);
      }
    };
    ws.onclose = (event) => {
      if (generation !== state.wsGeneration) return;
      state.ws = null;
      clearConnectionTimers();
      onSocketLost(event, greeted);
    };
    ws.onerror = () => {
      // A close event always follows; it decides.
    };
  }

  function onConnected(message) {
    state.failures = 0;
    setConnection('connected');
    const data = message.data || {};
    setUsername(data.username);
    const seq = Number.isSafeInteger(message.seq) ? message.seq : null;
    if (seq !== null && state.lastSeq !== null && seq < state.lastSeq) {
      // The server's log is behind what this page saw (a different, newer
      // database): start over from its position rather than ignore its messages.
      state.lastSeq = seq;
      state.balanceSeq = -1;
    }
    if (state.lastSeq === null && seq !== null) state.lastSeq = seq;
    setBalance(data.sbd_tokens, seq);
    scheduleTransactionsRefresh();
  }

  // A transfer or credit message: each seq is shown once, in order; a resumed
  // connection replays from `since`, so nothing missed while away is lost.
  function onEvent(message) {
    if (!Number.isSafeInteger(message.seq) || !message.data || typeof message.data !== 'object') return;
    if (state.lastSeq !== null && message.seq <= state.lastSeq) return;  // Seen already.
    state.lastSeq = message.seq;
    setBalance(message.data.new_balance, message.seq);
    addNotification(message);
    scheduleTransactionsRefresh();
    if (message.type === 'sbd_tokens_sent' && typeof message.data.transaction_id === 'string') {
      state.sentIds.add(message.data.transaction_id);
      if (state.sentIds.size > kSentIdsMax) state.sentIds.delete(state.sentIds.values().next().value);
      // The answer to a send was lost, but the socket says it went through.
      if (!state.sending && state.pendingSend && state.pendingSend.id === message.data.transaction_id) {
        sendSucceeded(`Sent ${tokensText(message.data.amount)} to ${message.data.to_username}.`);
      }
    }
  }

  // Keeps the connection honest: after a quiet spell, ping; no answer, reconnect.
  function armPing() {
    clearTimeout(state.pingTimer);
    clearTimeout(state.pongTimer);
    const generation = state.wsGeneration;
    state.pingTimer = setTimeout(() => {
      if (generation !== state.wsGeneration || !state.ws) return;
      try {
        state.ws.send(JSON.stringify({ type: 'ping' }));
      } catch {
        // The close event handles it.
      }
      state.pongTimer = setTimeout(() => {
        if (generation !== state.wsGeneration) return;
        dropSocket();
        onSocketLost(null, true);
      }, kPongTimeoutMs);
    }, kPingIntervalMs);
  }

  async function onSocketLost(event, greeted) {
    if (!state.signedIn) return;
    const generation = state.wsGeneration;
    state.failures = greeted ? 1 : state.failures + 1;
    const claims = tokenClaims(state.token);
    const expired = typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now();
    // 1008: the token expired while connected. A refused handshake shows no
    // status to scripts, so ask the HTTP API now and then whether the token
    // still works before trying forever.
    if (expired || (event && event.code === 1008) || state.failures % kProbeEveryFailures === 0) {
      const probe = await api('GET', '/sbd_tokens');
      if (generation !== state.wsGeneration || !state.signedIn) return;
      if (probe.status === 401) {
        signOut('Your session has expired or the token is no longer valid. Please sign in again.');
        return;
      }
      if (probe.ok) setBalance(probe.data.sbd_tokens, null);
    }
    scheduleReconnect(event && event.code === 1013 ? 0 : null);
  }

  function scheduleReconnect(delayMs) {
    clearTimeout(state.reconnectTimer);
    let delay = delayMs;
    if (delay === null) {
      const base = Math.min(kBackoffMaxMs, kBackoffInitialMs * 2 ** Math.max(0, state.failures - 1));
      delay = Math.round(base * (0.8 + Math.random() * 0.2));  // Jitter: clients do not return in step.
    }
    state.reconnectAt = Date.now() + delay;
    if (navigator.onLine === false) {
      setConnection('offline', 'This device is offline; the wallet reconnects when it is back.');
    } else {
      setConnection('reconnecting', `Next attempt in ${Math.ceil(delay / 1000)} s`);
    }
    state.reconnectTimer = setTimeout(connect, delay);
  }

  // Reconnect now if waiting (the device came back online, the tab came back).
  function reconnectSoon() {
    if (state.signedIn && !state.ws && state.reconnectTimer) {
      state.failures = 0;
      scheduleReconnect(0);
    }
  }

  // ---------------------------------------------------------------- sign-in

  function takeTokenFromHash() {
    if (!location.hash.startsWith('#')) return null;
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    if (token === null) return null;
    // Out of the address bar, the history and any screenshot.
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }

  function storedToken() {
    try {
      return sessionStorage.getItem(kTokenStorageKey);
    } catch {
      return null;
    }
  }

  function storeToken(token) {
    try {
      if (token === null) sessionStorage.removeItem(kTokenStorageKey);
      else sessionStorage.setItem(kTokenStorageKey, token);
    } catch {
      // Storage disabled: the page works, a reload signs out.
    }
  }

  function resetWalletView() {
    state.username = null;
    state.balance = null;
    state.balanceSeq = -1;
    state.lastSeq = null;
    state.failures = 0;
    state.pendingSend = null;
    state.sentIds.clear();
    el.username.textContent = '';
    el.balance.textContent = '–';
    delete el.balance.dataset.value;
    el.notifications.replaceChildren();
    el.notificationsEmpty.hidden = false;
    el.transactions.replaceChildren();
    el.transactionsEmpty.hidden = false;
    show(el.transactionsError, '');
    show(el.sendError, '');
    show(el.sendStatus, '');
    el.sendForm.reset();
    document.title = 'SBD Wallet';
  }

  function signOut(reason) {
    state.signedIn = false;
    dropSocket();
    clearTimeout(state.expiryTimer);
    clearTimeout(state.transactionsTimer);
    state.token = null;
    storeToken(null);
    resetWalletView();
    el.wallet.hidden = true;
    el.signOut.hidden = true;
    el.signin.hidden = false;
    show(el.signinError, reason || '');
    setConnection('offline');
  }

  async function signIn(rawToken, { restoring = false } = {}) {
    const token = (rawToken || '').trim();
    if (!token) {
      show(el.signinError, 'Paste an access token first.');
      return;
    }
    if (state.signedIn) signOut();
    state.token = token;
    el.signinButton.disabled = true;
    setConnection('connecting');
    const result = await api('GET', '/sbd_tokens');
    el.signinButton.disabled = false;
    if (state.token !== token) return;  // Another sign-in started meanwhile.
    if (!result.ok && !(restoring && (result.network || result.status >= 500))) {
      const message = result.status === 404
        ? 'There is no account for this token’s user on the ledger.'
        : describeError(result);
      signOut(result.status === 401
        ? 'That token was not accepted: it is invalid or has expired.'
        : message);
      return;
    }
    storeToken(token);
    state.signedIn = true;
    show(el.signinError, '');
    el.tokenInput.value = '';
    el.signin.hidden = true;
    el.wallet.hidden = false;
    el.signOut.hidden = false;
    if (result.ok) {
      setUsername(result.data.username);
      setBalance(result.data.sbd_tokens, null);
    } else {
      // Restoring after a reload while the server is away: show who, then let
      // the reconnect loop bring the rest.
      setUsername(typeof tokenClaims(token).sub === 'string' ? tokenClaims(token).sub.toLowerCase() : '');
    }
    armExpiry();
    connect();
    refreshTransactions();
  }

  // Signs out when the token's lifetime ends (the server closes with 1008 too).
  function armExpiry() {
    clearTimeout(state.expiryTimer);
    const exp = tokenClaims(state.token).exp;
    if (typeof exp !== 'number') return;
    const ms = exp * 1000 - Date.now();
    if (ms > 0 && ms < 2 ** 31 - 1) {
      state.expiryTimer = setTimeout(() => {
        if (state.signedIn) signOut('Your session has expired. Please sign in again with a new token.');
      }, ms + 1000);
    }
  }

  // ---------------------------------------------------------------- send

  function markInvalid(field, invalid) {
    if (invalid) field.setAttribute('aria-invalid', 'true');
    else field.removeAttribute('aria-invalid');
  }

  function showSendError(text, code, fields = []) {
    show(el.sendError, text);
    if (code) el.sendError.dataset.code = code;
    else delete el.sendError.dataset.code;
    for (const field of [el.to, el.amount, el.note]) markInvalid(field, fields.includes(field));
    const first = fields[0];
    if (first) first.focus();
  }

  const kFieldsOfError = {
    insufficient_funds: ['amount'],
    invalid_amount: ['amount'],
    balance_overflow: ['amount'],
    account_not_found: ['to'],
    invalid_username: ['to'],
    self_transfer: ['to'],
    invalid_field: ['note'],
    payload_too_large: ['note'],
  };

  function sendSucceeded(statusText) {
    state.pendingSend = null;
    showSendError('', null);
    el.sendForm.reset();
    show(el.sendStatus, statusText);
    scheduleTransactionsRefresh();
  }

  async function onSend(event) {
    event.preventDefault();
    if (state.sending || !state.signedIn) return;
    show(el.sendStatus, '');
    const to = el.to.value.trim();
    const amountText = el.amount.value.trim();
    const note = el.note.value;
    if (!to || !amountText) {
      showSendError(describeError({ code: 'missing_fields' }), 'missing_fields', [!to ? el.to : el.amount]);
      return;
    }
    const amount = /^[0-9]+$/.test(amountText) ? Number(amountText) : NaN;
    if (!Number.isSafeInteger(amount) || amount < 1) {
      showSendError(describeError({ code: 'invalid_amount' }), 'invalid_amount', [el.amount]);
      return;
    }
    // Same recipient, amount and note as a send whose outcome is unknown: the
    // same transaction id, so the server applies it at most once.
    const key = JSON.stringify([to, amount, note]);
    if (!state.pendingSend || state.pendingSend.key !== key) {
      state.pendingSend = { key, id: newTransactionId() };
    }
    const body = { to_user: to, amount, transaction_id: state.pendingSend.id };
    if (note !== '') body.note = note;

    state.sending = true;
    el.sendButton.disabled = true;
    el.sendButton.textContent = 'Sending…';
    const result = await api('POST', '/sbd_tokens/send', body);
    state.sending = false;
    el.sendButton.disabled = false;
    el.sendButton.textContent = 'Send';
    if (!state.signedIn) return;

    if (result.ok) {
      const data = result.data;
      setBalance(data.new_balance, data.seq);
      sendSucceeded(data.duplicate
        ? 'That transfer had already gone through; it was not applied twice.'
        : `Sent ${tokensText(data.amount)} to ${data.to_user}.`);
      return;
    }
    // Nothing was applied on a definite refusal; after a network failure, a
    // 5xx or a 429 the same id is kept for the retry.
    const outcomeUnknown = result.network || result.status >= 500 || result.status === 429;
    if (outcomeUnknown && state.sentIds.has(body.transaction_id)) {
      // The answer was lost but the socket already told: it went through.
      sendSucceeded(`Sent ${tokensText(amount)} to ${to}.`);
      return;
    }
    if (!outcomeUnknown) state.pendingSend = null;
    if (result.status === 401) {
      signOut(describeError(result));
      return;
    }
    const fields = (kFieldsOfError[result.code] || []).map((name) => el[name]);
    showSendError(describeError(result, { sending: true, to }), result.code || (result.network ? 'network' : null), fields);
  }

  // ---------------------------------------------------------------- wiring

  el.signinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    signIn(el.tokenInput.value);
  });
  el.signOut.addEventListener('click', () => signOut());
  el.sendForm.addEventListener('submit', onSend);
  for (const field of [el.to, el.amount, el.note]) {
    field.addEventListener('input', () => markInvalid(field, false));
  }
  el.transactionsRefresh.addEventListener('click', refreshTransactions);
  window.addEventListener('hashchange', () => {
    const token = takeTokenFromHash();
    if (token !== null) signIn(token);
  });
  window.addEventListener('online', reconnectSoon);
  window.addEventListener('offline', () => {
    if (state.signedIn && !state.ws) setConnection('offline');
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectSoon();
  });

  // Read-only view for debugging and tests.
  window.sbdWallet = Object.freeze({
    get lastSeq() { return state.lastSeq; },
    get connected() { return el.connection.dataset.state === 'connected'; },
  });

  const fromHash = takeTokenFromHash();
  if (fromHash !== null) {
    signIn(fromHash);
  } else {
    const saved = storedToken();
    if (saved) signIn(saved, { restoring: true });
    else setConnection('offline');
  }
})();
