/**
 * huizong (汇总) — Google Form intake.
 *
 * 1. `huizong google form-spec DIR > spec.json` prints the questions derived from the campaign's form spec.
 * 2. In this Apps Script project: Project Settings → Script properties, add
 *      HUIZONG_WEBHOOK_URL     the webhook address (…/webhook/form)
 *      HUIZONG_WEBHOOK_SECRET  the shared secret (the same value the server has; never put it in code)
 *    then add a file spec.gs containing `var HUIZONG_SPEC = <the contents of spec.json>;` and run setup().
 *    Running it again is safe: it reuses the form, adds only missing questions and never doubles triggers.
 * 3. Every submitted response is POSTed as JSON to the webhook, signed with
 *      X-Huizong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *    (the scheme of functions/webhook/signature.py; both are tested with tests/data/signature_vector.json).
 *    429, 5xx and network errors are retried with backoff inside the run; a response still not delivered
 *    is kept in Script Properties and retried by retryFailed() every 10 minutes. Every attempt is logged
 *    (console and the "huizong_log" spreadsheet).
 */

const HUIZONG = {
  FORMAT: 'huizong-form-spec/1',
  HEADER: 'X-Huizong-Signature',
  PROP_URL: 'HUIZONG_WEBHOOK_URL',
  PROP_SECRET: 'HUIZONG_WEBHOOK_SECRET',
  PROP_LOG: 'HUIZONG_LOG_SPREADSHEET_ID',
  FORM_PREFIX: 'HUIZONG_FORM:', // <campaign>/<deliverable> -> form id
  CONFIG_PREFIX: 'HUIZONG_CONFIG:', // <form id> -> {campaign_id, deliverable}
  PENDING_PREFIX: 'HUIZONG_PENDING:', // <form id>:<response id> -> a delivery to retry
  FAILED_PREFIX: 'HUIZONG_FAILED:', // <form id>:<response id> -> a delivery the server refused for good
  LOG_SHEET: 'huizong_log',
  // An Apps Script run is killed after 6 minutes and one fetch may take up to a minute:
  // stop starting new attempts well before that.
  RUN_BUDGET_MS: 4 * 60 * 1000,
  ATTEMPTS_PER_SUBMIT: 5,
  ATTEMPTS_PER_RETRY_RUN: 2, // per pending response, in one retryFailed() run
  MAX_ATTEMPTS: 150, // about a day of retryFailed() runs, then the response is kept as failed
  BASE_DELAY_MS: 2000,
  MAX_DELAY_MS: 60000,
  RETRY_EVERY_MINUTES: 10,
};

// ---- signing (pure: tested outside Google with the shared vector) -------------------------------

/**
 * The X-Huizong-Signature header value for `body` sent at `timestamp` (unix seconds).
 * computeHmac(message, secret) returns the HMAC-SHA256 bytes; Apps Script gives them as signed
 * numbers (−128..127), so each is masked to 0..255 before it is written as two hex digits.
 */
function huizongSignature(secret, timestamp, body, computeHmac) {
  const t = Math.floor(Number(timestamp));
  if (!isFinite(t)) throw new Error('huizongSignature: bad timestamp');
  const bytes = computeHmac(t + '.' + body, secret);
  let hex = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] & 0xff;
    hex += (b < 16 ? '0' : '') + b.toString(16);
  }
  return 't=' + t + ',v1=' + hex;
}

function appsScriptHmac_(message, secret) {
  return Utilities.computeHmacSha256Signature(message, secret, Utilities.Charset.UTF_8);
}

/**
 * JSON with every non-ASCII character written as \uXXXX. The bytes sent are then the same whatever
 * charset UrlFetchApp picks for a string payload, so the HMAC over them always matches the server's.
 */
function huizongAsciiJson(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
    return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
}

// ---- building the form ------------------------------------------------------------------------

/** Run once from the editor after adding spec.gs and the two Script properties. */
function setup() {
  if (typeof HUIZONG_SPEC === 'undefined') {
    throw new Error('Add a file spec.gs with: var HUIZONG_SPEC = <output of huizong google form-spec DIR>;');
  }
  return buildForm(HUIZONG_SPEC);
}

/**
 * Create (or complete) the Google Form described by `specJson` (the output of huizong google form-spec),
 * remember the webhook settings and install the triggers. Idempotent.
 * options: {webhookUrl, secret} — optional when the Script properties are already set.
 */
function buildForm(specJson, options) {
  const spec = typeof specJson === 'string' ? JSON.parse(specJson) : specJson;
  if (!spec || spec.format !== HUIZONG.FORMAT || !Array.isArray(spec.questions)) {
    throw new Error('Not a huizong form spec: use the output of `huizong google form-spec DIR`.');
  }
  const props = PropertiesService.getScriptProperties();
  const opts = options || {};
  if (opts.webhookUrl) props.setProperty(HUIZONG.PROP_URL, String(opts.webhookUrl));
  if (opts.secret) props.setProperty(HUIZONG.PROP_SECRET, String(opts.secret));
  if (!props.getProperty(HUIZONG.PROP_URL) || !props.getProperty(HUIZONG.PROP_SECRET)) {
    throw new Error('Set the Script properties ' + HUIZONG.PROP_URL + ' and ' + HUIZONG.PROP_SECRET + ' first.');
  }

  const formKey = HUIZONG.FORM_PREFIX + spec.campaign_id + '/' + spec.deliverable;
  let form = null;
  const knownId = props.getProperty(formKey);
  if (knownId) {
    try {
      form = FormApp.openById(knownId);
    } catch (err) {
      form = null; // deleted or no longer shared with us: build a new one
    }
  }
  const created = !form;
  if (created) {
    form = FormApp.create(spec.title);
    props.setProperty(formKey, form.getId());
  }
  form.setTitle(spec.title);
  form.setDescription(spec.description || '');
  // The respondent's address is the second way to tell which unit answered (after the unit code).
  form.setCollectEmail(true);

  const existing = {};
  form.getItems().forEach(function (item) {
    existing[item.getTitle()] = true;
  });
  let added = 0;
  spec.questions.forEach(function (q) {
    if (existing[q.title]) return; // titles are how answers map to fields: never add one twice
    addQuestion_(form, q);
    added++;
  });

  props.setProperty(
    HUIZONG.CONFIG_PREFIX + form.getId(),
    JSON.stringify({ campaign_id: spec.campaign_id, deliverable: spec.deliverable })
  );
  ensureTriggers_(form);
  ensureLogSheet_();
  const result = {
    form_id: form.getId(),
    created: created,
    questions_added: added,
    edit_url: form.getEditUrl(),
    published_url: form.getPublishedUrl(),
  };
  huizongLog_({ event: 'form-built', form_id: result.form_id, note: JSON.stringify(result) });
  return result;
}

function addQuestion_(form, q) {
  let item;
  switch (q.type) {
    case 'TEXT':
      item = form.addTextItem();
      if (q.validation) item.setValidation(textValidation_(FormApp.createTextValidation(), q.validation));
      break;
    case 'PARAGRAPH_TEXT':
      item = form.addParagraphTextItem();
      if (q.validation) {
        item.setValidation(textValidation_(FormApp.createParagraphTextValidation(), q.validation));
      }
      break;
    case 'MULTIPLE_CHOICE':
      item = form.addMultipleChoiceItem().setChoiceValues(q.choices);
      break;
    case 'CHECKBOX':
      item = form.addCheckboxItem().setChoiceValues(q.choices);
      break;
    case 'LIST':
      item = form.addListItem().setChoiceValues(q.choices);
      break;
    case 'DATE':
      item = form.addDateItem();
      break;
    default:
      throw new Error('Unknown question type ' + q.type + ' for ' + q.title);
  }
  item.setTitle(q.title);
  item.setHelpText(q.help_text || '');
  item.setRequired(Boolean(q.required));
  return item;
}

/**
 * Forms keep one rule per question (each require… call replaces the last). Ranges and exact formats
 * are checked again on the server, which reports them to the respondent.
 */
function textValidation_(builder, v) {
  let b = builder;
  const has = function (x) {
    return x !== null && x !== undefined;
  };
  switch (v.kind) {
    case 'whole_number':
      b = b.requireWholeNumber();
      break;
    case 'number':
      if (has(v.min) && has(v.max)) b = b.requireNumberBetween(v.min, v.max);
      else if (has(v.min)) b = b.requireNumberGreaterThanOrEqualTo(v.min);
      else if (has(v.max)) b = b.requireNumberLessThanOrEqualTo(v.max);
      else b = b.requireNumber();
      break;
    case 'url':
      // A cloud-drive link usually comes with its extraction code, which the strict URL rule refuses.
      b = v.pattern ? b.requireTextMatchesPattern(v.pattern) : b.requireTextIsUrl();
      break;
    case 'regex':
      b = b.requireTextMatchesPattern(v.pattern);
      break;
    case 'max_length':
      b = b.requireTextLengthLessThanOrEqualTo(v.max_length);
      break;
    default:
      throw new Error('Unknown validation ' + v.kind);
  }
  if (v.help_text) b = b.setHelpText(v.help_text);
  return b.build();
}

function ensureTriggers_(form) {
  const triggers = ScriptApp.getProjectTriggers();
  const hasSubmit = triggers.some(function (t) {
    return t.getHandlerFunction() === 'onFormSubmit' && t.getTriggerSourceId() === form.getId();
  });
  if (!hasSubmit) ScriptApp.newTrigger('onFormSubmit').forForm(form).onFormSubmit().create();
  const hasRetry = triggers.some(function (t) {
    return t.getHandlerFunction() === 'retryFailed';
  });
  if (!hasRetry) ScriptApp.newTrigger('retryFailed').timeBased().everyMinutes(HUIZONG.RETRY_EVERY_MINUTES).create();
}

function ensureLogSheet_() {
  const props = PropertiesService.getScriptProperties();
  const id = props.getProperty(HUIZONG.PROP_LOG);
  if (id) {
    try {
      if (SpreadsheetApp.openById(id).getSheetByName(HUIZONG.LOG_SHEET)) return;
    } catch (err) {
      // gone: make a new one
    }
  }
  const ss = SpreadsheetApp.create(HUIZONG.LOG_SHEET);
  const sheet = ss.getSheets()[0];
  sheet.setName(HUIZONG.LOG_SHEET);
  sheet.appendRow(['time', 'event', 'form_id', 'response_id', 'attempt', 'status', 'note']);
  props.setProperty(HUIZONG.PROP_LOG, ss.getId());
  huizongLogSheet_ = null;
}

// ---- delivering responses ---------------------------------------------------------------------

/** Installable trigger: ScriptApp.newTrigger('onFormSubmit').forForm(form).onFormSubmit(). */
function onFormSubmit(e) {
  if (!e || !e.response || typeof e.response.getId !== 'function') {
    // Run from the editor, or an event without a response: there is nothing to send.
    huizongLog_({ event: 'blank-event', note: 'onFormSubmit called without a form response; nothing sent' });
    return { ok: false, reason: 'blank-event' };
  }
  const formId = formIdOf_(e);
  const responseId = e.response.getId();
  if (!formId) {
    huizongLog_({ event: 'unknown-form', response_id: responseId, note: 'cannot tell which form this is' });
    return { ok: false, reason: 'unknown-form' };
  }
  const deadline = Date.now() + HUIZONG.RUN_BUDGET_MS;
  let result;
  try {
    result = deliverResponse_(formId, e.response, deadline, HUIZONG.ATTEMPTS_PER_SUBMIT);
  } catch (err) {
    // A response that cannot even be turned into a payload (settings missing…) is kept for retryFailed.
    result = { ok: false, retryable: true, attempts: 0, code: null, error: String(err && err.message ? err.message : err) };
    huizongLog_({ event: 'error', form_id: formId, response_id: responseId, note: result.error });
  }
  if (!result.ok) rememberFailed_(formId, responseId, result, null);
  return result;
}

function formIdOf_(e) {
  if (e.source && typeof e.source.getId === 'function') return e.source.getId();
  if (e.triggerUid) {
    const found = ScriptApp.getProjectTriggers().filter(function (t) {
      return t.getUniqueId() === e.triggerUid;
    })[0];
    if (found) return found.getTriggerSourceId();
  }
  return null;
}

function answerValue_(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    // Checkbox answers are a list of choices; a grid row is itself a list.
    return value.map(function (v) {
      return Array.isArray(v) ? v.join('、') : String(v);
    });
  }
  return String(value);
}

/** The payload of schemas/webhook.py FormResponsePayload. */
function buildPayload_(formId, config, response) {
  const email = response.getRespondentEmail ? response.getRespondentEmail() : '';
  return {
    kind: 'form_response',
    campaign_id: config.campaign_id,
    deliverable: config.deliverable,
    form_id: formId,
    response_id: response.getId(),
    submitted_at: response.getTimestamp().toISOString(),
    respondent_email: email ? String(email) : null,
    answers: response.getItemResponses().map(function (ir) {
      return { title: ir.getItem().getTitle(), value: answerValue_(ir.getResponse()) };
    }),
  };
}

function retryable_(code) {
  return code === 408 || code === 429 || code >= 500;
}

function backoffMs_(attempt, retryAfterHeader) {
  const seconds = Number(retryAfterHeader);
  if (retryAfterHeader && isFinite(seconds) && seconds >= 0) {
    return Math.min(seconds * 1000, HUIZONG.MAX_DELAY_MS);
  }
  const exp = Math.min(HUIZONG.BASE_DELAY_MS * Math.pow(2, attempt - 1), HUIZONG.MAX_DELAY_MS);
  return Math.floor(exp / 2 + Math.random() * (exp / 2)); // jitter so many retries do not arrive together
}

function headerOf_(headers, name) {
  if (!headers) return null;
  const wanted = name.toLowerCase();
  for (const k in headers) {
    if (Object.prototype.hasOwnProperty.call(headers, k) && k.toLowerCase() === wanted) return headers[k];
  }
  return null;
}

/**
 * POST one response, retrying 429/5xx/network errors with backoff until it is delivered, `maxAttempts`
 * is reached or the next wait would pass `deadline`. Each attempt is signed afresh: the server refuses
 * signatures older than 5 minutes.
 */
function deliverResponse_(formId, response, deadline, maxAttempts) {
  const props = PropertiesService.getScriptProperties();
  const url = props.getProperty(HUIZONG.PROP_URL);
  const secret = props.getProperty(HUIZONG.PROP_SECRET);
  const configText = props.getProperty(HUIZONG.CONFIG_PREFIX + formId);
  if (!url || !secret || !configText) {
    throw new Error('webhook URL, secret or form settings missing: run setup() again');
  }
  const body = huizongAsciiJson(buildPayload_(formId, JSON.parse(configText), response));
  const responseId = response.getId();
  let last = { ok: false, retryable: true, attempts: 0, code: null, error: '' };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const signature = huizongSignature(secret, Math.floor(Date.now() / 1000), body, appsScriptHmac_);
    let code = null;
    let error = '';
    let retryAfter = null;
    let text = '';
    try {
      const res = UrlFetchApp.fetch(url, {
        method: 'post',
        contentType: 'application/json',
        payload: body,
        headers: { 'X-Huizong-Signature': signature },
        muteHttpExceptions: true,
        followRedirects: false,
      });
      code = res.getResponseCode();
      text = String(res.getContentText() || '').slice(0, 500);
      retryAfter = headerOf_(res.getHeaders ? res.getHeaders() : null, 'Retry-After');
    } catch (err) {
      error = String(err && err.message ? err.message : err); // DNS, timeout, connection refused…
    }
    const ok = code !== null && code >= 200 && code < 300;
    const canRetry = code === null || retryable_(code);
    huizongLog_({
      event: 'deliver',
      form_id: formId,
      response_id: responseId,
      attempt: attempt,
      status: code === null ? 'network-error' : code,
      note: ok ? '' : error || text,
    });
    last = { ok: ok, retryable: !ok && canRetry, attempts: attempt, code: code, error: ok ? '' : error || text };
    if (ok || !canRetry || attempt === maxAttempts) return last;
    const wait = backoffMs_(attempt, retryAfter);
    if (Date.now() + wait >= deadline) return last;
    Utilities.sleep(wait);
  }
  return last;
}

function rememberFailed_(formId, responseId, result, previous) {
  const props = PropertiesService.getScriptProperties();
  const key = formId + ':' + responseId;
  const entry = previous || { form_id: formId, response_id: responseId, attempts: 0, first_failed_at: new Date().toISOString() };
  entry.attempts += result.attempts;
  entry.last_code = result.code;
  entry.last_error = String(result.error || '').slice(0, 300);
  entry.last_tried_at = new Date().toISOString();
  const giveUp = !result.retryable || entry.attempts >= HUIZONG.MAX_ATTEMPTS;
  props.deleteProperty((giveUp ? HUIZONG.PENDING_PREFIX : HUIZONG.FAILED_PREFIX) + key);
  props.setProperty((giveUp ? HUIZONG.FAILED_PREFIX : HUIZONG.PENDING_PREFIX) + key, JSON.stringify(entry));
  huizongLog_({
    event: giveUp ? 'failed' : 'queued',
    form_id: formId,
    response_id: responseId,
    attempt: entry.attempts,
    status: result.code === null ? 'network-error' : result.code,
    note: entry.last_error,
  });
}

/** Time-driven trigger: deliver the responses onFormSubmit could not. */
function retryFailed() {
  const lock = LockService.getScriptLock();
  if (!lock.tryLock(5000)) {
    huizongLog_({ event: 'retry-skipped', note: 'another retryFailed run is active' });
    return { delivered: 0, pending: null };
  }
  let delivered = 0;
  try {
    const props = PropertiesService.getScriptProperties();
    const all = props.getProperties();
    const keys = Object.keys(all)
      .filter(function (k) {
        return k.indexOf(HUIZONG.PENDING_PREFIX) === 0;
      })
      .sort();
    const deadline = Date.now() + HUIZONG.RUN_BUDGET_MS;
    for (let i = 0; i < keys.length; i++) {
      if (Date.now() >= deadline) break; // the rest waits for the next run
      const entry = JSON.parse(all[keys[i]]);
      let result;
      try {
        const response = FormApp.openById(entry.form_id).getResponse(entry.response_id);
        result = deliverResponse_(entry.form_id, response, deadline, HUIZONG.ATTEMPTS_PER_RETRY_RUN);
      } catch (err) {
        // The form or response is gone, or the settings are missing: nothing later will fix it by itself.
        result = { ok: false, retryable: false, attempts: 1, code: null, error: String(err && err.message ? err.message : err) };
      }
      if (result.ok) {
        props.deleteProperty(keys[i]);
        delivered++;
        huizongLog_({ event: 'delivered-later', form_id: entry.form_id, response_id: entry.response_id });
      } else {
        rememberFailed_(entry.form_id, entry.response_id, result, entry);
      }
    }
    return { delivered: delivered, pending: countPrefix_(HUIZONG.PENDING_PREFIX) };
  } finally {
    lock.releaseLock();
  }
}

/** Run by hand after fixing what made the server refuse (a wrong secret…): retry the failed ones. */
function requeueFailed() {
  const props = PropertiesService.getScriptProperties();
  const all = props.getProperties();
  let moved = 0;
  Object.keys(all).forEach(function (k) {
    if (k.indexOf(HUIZONG.FAILED_PREFIX) !== 0) return;
    const entry = JSON.parse(all[k]);
    entry.attempts = 0;
    props.setProperty(HUIZONG.PENDING_PREFIX + k.slice(HUIZONG.FAILED_PREFIX.length), JSON.stringify(entry));
    props.deleteProperty(k);
    moved++;
  });
  huizongLog_({ event: 'requeued', note: String(moved) });
  return moved;
}

function countPrefix_(prefix) {
  return Object.keys(PropertiesService.getScriptProperties().getProperties()).filter(function (k) {
    return k.indexOf(prefix) === 0;
  }).length;
}

// ---- log --------------------------------------------------------------------------------------

let huizongLogSheet_ = null;

/** One line per event, to the execution log and the huizong_log sheet. Never logs the secret. */
function huizongLog_(entry) {
  const line = Object.assign({ time: new Date().toISOString() }, entry);
  console.log('huizong ' + JSON.stringify(line));
  try {
    if (!huizongLogSheet_) {
      const id = PropertiesService.getScriptProperties().getProperty(HUIZONG.PROP_LOG);
      if (!id) return;
      huizongLogSheet_ = SpreadsheetApp.openById(id).getSheetByName(HUIZONG.LOG_SHEET);
      if (!huizongLogSheet_) return;
    }
    huizongLogSheet_.appendRow([
      line.time,
      line.event || '',
      line.form_id || '',
      line.response_id || '',
      line.attempt || '',
      line.status === undefined ? '' : String(line.status),
      line.note || '',
    ]);
  } catch (err) {
    // The log must never stop a delivery.
    console.warn('huizong log sheet unavailable: ' + err);
  }
}
