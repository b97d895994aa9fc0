/**
 * huizong (汇总) — Google Form intake.
 *
 * 1. `huizong google form-spec DIR --gs > spec.gs` writes the questions derived from the campaign's form
 *    spec as `var HUIZONG_SPEC = {...};` (without --gs: the same JSON alone).
 * 2. In this Apps Script project (files Code.gs, spec.gs; appsscript.json as the manifest):
 *    Project Settings → Script properties, add
 *      HUIZONG_WEBHOOK_URL     the webhook address (…/webhook/form)
 *      HUIZONG_WEBHOOK_SECRET  the shared secret (the same value the server has; never put it in code)
 *    then run setup(). Running it again is safe: it reuses the form, brings its questions in line with the
 *    spec (adds the missing ones, updates help, choices, required and validation, keeps the order) and
 *    never doubles triggers.
 * 3. Every submitted response is POSTed as JSON to the webhook, signed with
 *      X-Huizong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *    (the scheme of functions/services/intake/signature.py; both are tested with tests/data/signature_vector.json).
 *    429, 5xx and network errors are retried with bounded backoff inside the run; a response still not
 *    delivered is kept in Script Properties and retried by retryFailed() every 10 minutes, for about a day.
 *    Every attempt is logged (execution log and the "huizong_log" spreadsheet).
 *
 * Plain ES5 (var, no arrow functions), so it runs under the V8 and the old Rhino runtime alike.
 */

var HUIZONG = {
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
  QUESTION_TYPES: ['TEXT', 'PARAGRAPH_TEXT', 'MULTIPLE_CHOICE', 'CHECKBOX', 'LIST', 'DATE'],
};

// ---- signing (tested outside Google, under node, with the shared vector) ------------------------

/**
 * The X-Huizong-Signature header value for `body` (a string) sent at `timestamp` (unix seconds).
 * computeHmac(message, secret) -> bytes is optional: Apps Script's own HMAC is used without it.
 */
function huizongSignature(secret, timestamp, body, computeHmac) {
  var t = Math.floor(Number(timestamp));
  if (!isFinite(t)) throw new Error('huizongSignature: bad timestamp ' + timestamp);
  var bytes = (computeHmac || appsScriptHmac_)(t + '.' + body, secret);
  return 't=' + t + ',v1=' + huizongHex_(bytes);
}

function appsScriptHmac_(message, secret) {
  return Utilities.computeHmacSha256Signature(message, secret, Utilities.Charset.UTF_8);
}

/** Apps Script gives bytes as signed numbers (−128..127): mask each to 0..255 before writing it. */
function huizongHex_(bytes) {
  var hex = '';
  for (var i = 0; i < bytes.length; i++) {
    var b = bytes[i] & 0xff;
    hex += (b < 16 ? '0' : '') + b.toString(16);
  }
  return hex;
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

/**
 * Run from the editor after adding spec.gs and the two Script properties (and after every new spec).
 * HUIZONG_SPEC may also be a list of specs (one form per deliverable, all in this project).
 */
function setup() {
  if (typeof HUIZONG_SPEC === 'undefined') {
    throw new Error('Add a file spec.gs with the output of: huizong google form-spec DIR --gs');
  }
  if (!Array.isArray(HUIZONG_SPEC)) return buildForm(HUIZONG_SPEC);
  return HUIZONG_SPEC.map(function (spec) {
    return buildForm(spec);
  });
}

/**
 * Create or update the Google Form described by `specJson` (the output of huizong google form-spec),
 * remember which campaign and deliverable it is, and install the triggers. Idempotent.
 * options: {webhookUrl, secret} — optional when the Script properties are already set.
 */
function buildForm(specJson, options) {
  var spec = typeof specJson === 'string' ? JSON.parse(specJson) : specJson;
  if (!spec || spec.format !== HUIZONG.FORMAT || !Array.isArray(spec.questions)) {
    throw new Error('Not a huizong form spec: use the output of `huizong google form-spec DIR`.');
  }
  var props = PropertiesService.getScriptProperties();
  var opts = options || {};
  if (opts.webhookUrl) props.setProperty(HUIZONG.PROP_URL, String(opts.webhookUrl));
  if (opts.secret) props.setProperty(HUIZONG.PROP_SECRET, String(opts.secret));
  if (!props.getProperty(HUIZONG.PROP_URL) || !props.getProperty(HUIZONG.PROP_SECRET)) {
    throw new Error('Set the Script properties ' + HUIZONG.PROP_URL + ' and ' + HUIZONG.PROP_SECRET + ' first.');
  }

  var formKey = HUIZONG.FORM_PREFIX + spec.campaign_id + '/' + spec.deliverable;
  var form = openKnownForm_(props.getProperty(formKey));
  var created = !form;
  if (created) {
    form = FormApp.create(spec.title);
    props.setProperty(formKey, form.getId());
  }
  form.setTitle(spec.title);
  form.setDescription(spec.description || '');
  // The respondent's address is the second way to tell which unit answered (after the unit code).
  form.setCollectEmail(true);
  if (created && typeof form.setPublished === 'function') form.setPublished(true);

  var sync = syncQuestions_(form, spec.questions);
  props.setProperty(
    HUIZONG.CONFIG_PREFIX + form.getId(),
    JSON.stringify({ campaign_id: spec.campaign_id, deliverable: spec.deliverable })
  );
  ensureTriggers_(form);
  ensureLogSheet_();
  var result = {
    form_id: form.getId(),
    created: created,
    questions_added: sync.added,
    questions_updated: sync.updated,
    questions_replaced: sync.replaced,
    // Questions whose type changed after responses came in: left as they are (their answers still map
    // by title); rebuild the form for a new campaign rather than change a live one.
    type_kept: sync.typeKept,
    // Questions in the form that the spec does not have (added by hand): left alone; the server ignores
    // their answers with a warning.
    not_in_spec: sync.notInSpec,
    edit_url: form.getEditUrl(),
    published_url: form.getPublishedUrl(),
  };
  huizongLog_({ event: 'form-built', form_id: result.form_id, note: JSON.stringify(result) });
  return result;
}

function openKnownForm_(formId) {
  if (!formId) return null;
  try {
    return FormApp.openById(formId);
  } catch (err) {
    return null; // deleted or no longer shared with us: build a new one
  }
}

function isQuestionItem_(item) {
  var type = String(item.getType());
  return HUIZONG.QUESTION_TYPES.indexOf(type) >= 0;
}

/** Bring the form's questions in line with the spec; the titles are how answers map back to fields. */
function syncQuestions_(form, questions) {
  var byTitle = {};
  form.getItems().forEach(function (item) {
    if (isQuestionItem_(item) && !byTitle[item.getTitle()]) byTitle[item.getTitle()] = item;
  });
  var out = { added: 0, updated: 0, replaced: 0, typeKept: [], notInSpec: [] };
  var wanted = {};
  var hasResponses = null; // looked up only when a question changed type
  questions.forEach(function (q, index) {
    if (HUIZONG.QUESTION_TYPES.indexOf(q.type) < 0) {
      throw new Error('Unknown question type ' + q.type + ' for ' + q.title);
    }
    wanted[q.title] = true;
    var item = byTitle[q.title] || null;
    if (item && String(item.getType()) !== q.type) {
      if (hasResponses === null) hasResponses = form.getResponses().length > 0;
      if (hasResponses) {
        out.typeKept.push(q.title);
        moveTo_(form, item, index);
        return;
      }
      form.deleteItem(item);
      item = null;
      out.replaced++;
    } else if (item) {
      out.updated++;
    }
    if (!item) {
      item = addItem_(form, q.type);
      if (!byTitle[q.title]) out.added++;
    }
    applyQuestion_(typedItem_(item, q.type), q);
    moveTo_(form, item, index);
  });
  Object.keys(byTitle).forEach(function (title) {
    if (!wanted[title]) out.notInSpec.push(title);
  });
  return out;
}

function moveTo_(form, item, index) {
  if (item.getIndex() !== index) form.moveItem(item, index);
}

function addItem_(form, type) {
  switch (type) {
    case 'TEXT':
      return form.addTextItem();
    case 'PARAGRAPH_TEXT':
      return form.addParagraphTextItem();
    case 'MULTIPLE_CHOICE':
      return form.addMultipleChoiceItem();
    case 'CHECKBOX':
      return form.addCheckboxItem();
    case 'LIST':
      return form.addListItem();
    case 'DATE':
      return form.addDateItem();
  }
  throw new Error('Unknown question type ' + type);
}

function typedItem_(item, type) {
  switch (type) {
    case 'TEXT':
      return item.asTextItem();
    case 'PARAGRAPH_TEXT':
      return item.asParagraphTextItem();
    case 'MULTIPLE_CHOICE':
      return item.asMultipleChoiceItem();
    case 'CHECKBOX':
      return item.asCheckboxItem();
    case 'LIST':
      return item.asListItem();
    case 'DATE':
      return item.asDateItem();
  }
  throw new Error('Unknown question type ' + type);
}

function applyQuestion_(item, q) {
  item.setTitle(q.title);
  item.setHelpText(q.help_text || '');
  item.setRequired(Boolean(q.required));
  if (q.type === 'MULTIPLE_CHOICE' || q.type === 'CHECKBOX' || q.type === 'LIST') {
    item.setChoiceValues(q.choices);
  } else if (q.type === 'TEXT' || q.type === 'PARAGRAPH_TEXT') {
    var builder = q.type === 'TEXT' ? FormApp.createTextValidation() : FormApp.createParagraphTextValidation();
    var validation = q.validation ? textValidation_(builder, q.validation) : null;
    if (validation) item.setValidation(validation);
    else item.clearValidation();
  }
}

/**
 * The form's rule for a question, or null when its builder has none for that kind (a paragraph has no
 * number rules). The form keeps one rule per question; ranges and exact formats are checked again on
 * the server, which reports them to the respondent.
 */
function textValidation_(builder, v) {
  var has = function (x) {
    return x !== null && x !== undefined;
  };
  var b = null;
  switch (v.kind) {
    case 'whole_number':
      if (builder.requireWholeNumber) b = builder.requireWholeNumber();
      break;
    case 'number':
      if (!builder.requireNumber) break;
      if (has(v.min) && has(v.max)) b = builder.requireNumberBetween(v.min, v.max);
      else if (has(v.min)) b = builder.requireNumberGreaterThanOrEqualTo(v.min);
      else if (has(v.max)) b = builder.requireNumberLessThanOrEqualTo(v.max);
      else b = builder.requireNumber();
      break;
    case 'url':
      // A cloud-drive link usually comes with its extraction code, which the strict URL rule refuses.
      if (v.pattern) b = builder.requireTextMatchesPattern(v.pattern);
      else if (builder.requireTextIsUrl) b = builder.requireTextIsUrl();
      break;
    case 'regex':
      b = builder.requireTextMatchesPattern(v.pattern);
      break;
    case 'max_length':
      b = builder.requireTextLengthLessThanOrEqualTo(v.max_length);
      break;
    default:
      throw new Error('Unknown validation ' + v.kind);
  }
  if (!b) return null;
  if (v.help_text) b = b.setHelpText(v.help_text);
  return b.build();
}

function ensureTriggers_(form) {
  var triggers = ScriptApp.getProjectTriggers();
  var hasSubmit = triggers.some(function (t) {
    return t.getHandlerFunction() === 'onFormSubmit' && t.getTriggerSourceId() === form.getId();
  });
  if (!hasSubmit) ScriptApp.newTrigger('onFormSubmit').forForm(form).onFormSubmit().create();
  var hasRetry = triggers.some(function (t) {
    return t.getHandlerFunction() === 'retryFailed';
  });
  if (!hasRetry) ScriptApp.newTrigger('retryFailed').timeBased().everyMinutes(HUIZONG.RETRY_EVERY_MINUTES).create();
}

function ensureLogSheet_() {
  var props = PropertiesService.getScriptProperties();
  var id = props.getProperty(HUIZONG.PROP_LOG);
  if (id) {
    try {
      if (SpreadsheetApp.openById(id).getSheetByName(HUIZONG.LOG_SHEET)) return;
    } catch (err) {
      // gone: make a new one
    }
  }
  var ss = SpreadsheetApp.create(HUIZONG.LOG_SHEET);
  var sheet = ss.getSheets()[0];
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
  var formId = formIdOf_(e);
  var responseId = e.response.getId();
  if (!formId) {
    huizongLog_({ event: 'unknown-form', response_id: responseId, note: 'cannot tell which form this is' });
    return { ok: false, reason: 'unknown-form' };
  }
  var deadline = Date.now() + HUIZONG.RUN_BUDGET_MS;
  var result;
  try {
    result = deliverResponse_(formId, e.response, deadline, HUIZONG.ATTEMPTS_PER_SUBMIT);
  } catch (err) {
    // A response that cannot even be turned into a payload (settings missing…) is kept for retryFailed.
    result = { ok: false, retryable: true, attempts: 0, code: null, error: errorText_(err) };
    huizongLog_({ event: 'error', form_id: formId, response_id: responseId, note: result.error });
  }
  if (!result.ok) rememberFailed_(formId, responseId, result, null);
  return result;
}

function errorText_(err) {
  return String(err && err.message ? err.message : err);
}

function formIdOf_(e) {
  if (e.source && typeof e.source.getId === 'function') return e.source.getId();
  if (e.triggerUid) {
    var found = ScriptApp.getProjectTriggers().filter(function (t) {
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

/** The payload of schemas/webhook.py FormResponsePayload (published as schemas/webhook.schema.json). */
function buildPayload_(formId, config, response) {
  var email = typeof response.getRespondentEmail === 'function' ? response.getRespondentEmail() : '';
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

/** Wait before attempt `attempt + 1`: the server's Retry-After when it gives one, else exponential with jitter. */
function backoffMs_(attempt, retryAfterHeader) {
  var seconds = Number(retryAfterHeader);
  if (retryAfterHeader !== null && retryAfterHeader !== undefined && retryAfterHeader !== '' &&
      isFinite(seconds) && seconds >= 0) {
    return Math.min(seconds * 1000, HUIZONG.MAX_DELAY_MS);
  }
  var exp = Math.min(HUIZONG.BASE_DELAY_MS * Math.pow(2, attempt - 1), HUIZONG.MAX_DELAY_MS);
  return Math.floor(exp / 2 + Math.random() * (exp / 2)); // jitter so many retries do not arrive together
}

function headerOf_(headers, name) {
  if (!headers) return null;
  var wanted = name.toLowerCase();
  for (var k in headers) {
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
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty(HUIZONG.PROP_URL);
  var secret = props.getProperty(HUIZONG.PROP_SECRET);
  var configText = props.getProperty(HUIZONG.CONFIG_PREFIX + formId);
  if (!url || !secret || !configText) {
    throw new Error('webhook URL, secret or form settings missing: run setup() again');
  }
  var body = huizongAsciiJson(buildPayload_(formId, JSON.parse(configText), response));
  var responseId = response.getId();
  var last = { ok: false, retryable: true, attempts: 0, code: null, error: '' };
  for (var attempt = 1; attempt <= maxAttempts; attempt++) {
    var headers = {};
    headers[HUIZONG.HEADER] = huizongSignature(secret, Math.floor(Date.now() / 1000), body);
    var code = null;
    var error = '';
    var retryAfter = null;
    var text = '';
    try {
      var res = UrlFetchApp.fetch(url, {
        method: 'post',
        contentType: 'application/json',
        payload: body,
        headers: headers,
        muteHttpExceptions: true,
        followRedirects: false,
      });
      code = res.getResponseCode();
      text = String(res.getContentText() || '').slice(0, 500);
      retryAfter = headerOf_(typeof res.getHeaders === 'function' ? res.getHeaders() : null, 'Retry-After');
    } catch (err) {
      error = errorText_(err); // DNS, timeout, connection refused…
    }
    var ok = code !== null && code >= 200 && code < 300;
    var canRetry = code === null || retryable_(code);
    huizongLog_({
      event: 'deliver',
      form_id: formId,
      response_id: responseId,
      attempt: attempt,
      status: code === null ? 'network-error' : code,
      note: ok ? text : error || text,
    });
    last = { ok: ok, retryable: !ok && canRetry, attempts: attempt, code: code, error: ok ? '' : error || text };
    if (ok || !canRetry || attempt === maxAttempts) return last;
    var wait = backoffMs_(attempt, retryAfter);
    if (Date.now() + wait >= deadline) return last;
    Utilities.sleep(wait);
  }
  return last;
}

function rememberFailed_(formId, responseId, result, previous) {
  var props = PropertiesService.getScriptProperties();
  var key = formId + ':' + responseId;
  var entry = previous || {
    form_id: formId,
    response_id: responseId,
    attempts: 0,
    first_failed_at: new Date().toISOString(),
  };
  entry.attempts += result.attempts;
  entry.last_code = result.code;
  entry.last_error = String(result.error || '').slice(0, 300);
  entry.last_tried_at = new Date().toISOString();
  var giveUp = !result.retryable || entry.attempts >= HUIZONG.MAX_ATTEMPTS;
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
  var lock = LockService.getScriptLock();
  if (!lock.tryLock(5000)) {
    huizongLog_({ event: 'retry-skipped', note: 'another retryFailed run is active' });
    return { delivered: 0, pending: null };
  }
  var delivered = 0;
  try {
    var props = PropertiesService.getScriptProperties();
    var all = props.getProperties();
    var keys = Object.keys(all)
      .filter(function (k) {
        return k.indexOf(HUIZONG.PENDING_PREFIX) === 0;
      })
      .sort();
    var deadline = Date.now() + HUIZONG.RUN_BUDGET_MS;
    for (var i = 0; i < keys.length; i++) {
      if (Date.now() >= deadline) break; // the rest waits for the next run
      var entry = JSON.parse(all[keys[i]]);
      var result;
      try {
        // The response as it is now: an edit made since the failed delivery is sent, not the old answers.
        var response = FormApp.openById(entry.form_id).getResponse(entry.response_id);
        result = deliverResponse_(entry.form_id, response, deadline, HUIZONG.ATTEMPTS_PER_RETRY_RUN);
      } catch (err) {
        // Forms unavailable, the response deleted, settings missing: counted as an attempt, so a cause
        // that never goes away ends as failed after MAX_ATTEMPTS rather than being retried forever.
        result = { ok: false, retryable: true, attempts: 1, code: null, error: errorText_(err) };
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
  var props = PropertiesService.getScriptProperties();
  var all = props.getProperties();
  var moved = 0;
  Object.keys(all).forEach(function (k) {
    if (k.indexOf(HUIZONG.FAILED_PREFIX) !== 0) return;
    var entry = JSON.parse(all[k]);
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

var huizongLogSheet_ = null;

/** One line per event, to the execution log and the huizong_log sheet. Never logs the secret. */
function huizongLog_(entry) {
  var line = { time: new Date().toISOString() };
  for (var k in entry) {
    if (Object.prototype.hasOwnProperty.call(entry, k)) line[k] = entry[k];
  }
  console.log('huizong ' + JSON.stringify(line));
  try {
    if (!huizongLogSheet_) {
      var id = PropertiesService.getScriptProperties().getProperty(HUIZONG.PROP_LOG);
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
