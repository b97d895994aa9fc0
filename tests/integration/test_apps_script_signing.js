// Runs the real infra/apps_script/Code.gs under node: its code is loaded unchanged into a vm context whose
// Google services (Utilities, FormApp, UrlFetchApp, PropertiesService, ScriptApp, SpreadsheetApp,
// LockService) are small in-memory stand-ins, Utilities' HMAC being node's crypto.
//
//   node tests/integration/test_apps_script_signing.js Code.gs signature_vector.json spec.json response.json
//
// response.json: {"respondent_email": ..., "answers": {question title: answer}} for the responses submitted.
//
// The script asserts what only JavaScript can see (form items, triggers, retries, waits, properties) and
// prints JSON for tests/integration/test_apps_script_node.py, which checks the rest against the Python side: the
// signature vector, the signatures of the delivered bodies, and the bodies against FormResponsePayload.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const vm = require('node:vm');

const [codePath, vectorPath, specPath, responsePath] = process.argv.slice(2);
const vector = JSON.parse(fs.readFileSync(vectorPath, 'utf8'));
const specText = fs.readFileSync(specPath, 'utf8');
const { respondent_email: respondentEmail, answers } = JSON.parse(fs.readFileSync(responsePath, 'utf8'));
const WEBHOOK_URL = 'https://hooks.example.invalid/webhook/form';
const SECRET = vector.secret;

// ---- clock and logs -----------------------------------------------------------------------------

const clock = { ms: Date.UTC(2022, 11, 9, 2, 0, 0) };
const logLines = [];
const sleeps = [];

// ---- Utilities ----------------------------------------------------------------------------------

const Charset = { UTF_8: 'UTF_8', US_ASCII: 'US_ASCII' };

function javaBytes(value, charset) {
  if (Array.isArray(value)) return Buffer.from(value.map((b) => b & 0xff));
  // Apps Script's string overloads take a Charset; Code.gs must name UTF-8 so the secret and the
  // body are encoded as the Python side encodes them.
  assert.equal(charset, Charset.UTF_8, 'computeHmacSha256Signature called without Charset.UTF_8');
  return Buffer.from(String(value), 'utf8');
}

const Utilities = {
  Charset,
  computeHmacSha256Signature(value, key, charset) {
    const digest = crypto.createHmac('sha256', javaBytes(key, charset)).update(javaBytes(value, charset)).digest();
    return Array.from(digest, (b) => (b > 127 ? b - 256 : b)); // Java bytes are signed
  },
  sleep(ms) {
    assert.ok(ms >= 0 && ms <= 60000, `sleep(${ms}) outside 0..60000`);
    sleeps.push(ms);
    clock.ms += ms;
  },
};

// ---- PropertiesService, LockService -----------------------------------------------------------------

const props = new Map();
const scriptProperties = {
  getProperty: (k) => (props.has(k) ? props.get(k) : null),
  setProperty(k, v) {
    assert.equal(typeof v, 'string');
    assert.ok(v.length <= 9000, `property ${k} over the 9 kB value limit`);
    props.set(k, v);
    return scriptProperties;
  },
  deleteProperty(k) {
    props.delete(k);
    return scriptProperties;
  },
  getProperties: () => Object.fromEntries(props),
};
const PropertiesService = { getScriptProperties: () => scriptProperties };
const LockService = { getScriptLock: () => ({ tryLock: () => true, releaseLock() {} }) };

// ---- FormApp ------------------------------------------------------------------------------------

const ItemType = {};
for (const t of ['TEXT', 'PARAGRAPH_TEXT', 'MULTIPLE_CHOICE', 'CHECKBOX', 'LIST', 'DATE', 'SECTION_HEADER']) {
  ItemType[t] = { toString: () => t };
}

class FakeItem {
  constructor(form, type) {
    this.form = form;
    this.type = type;
    this.id = ++FakeItem.next;
    this.title = '';
    this.help = '';
    this.required = false;
    this.choices = null;
    this.validation = null;
  }
  getId() { return this.id; }
  getType() { return ItemType[this.type]; }
  getTitle() { return this.title; }
  getIndex() { return this.form.items.indexOf(this); }
  setTitle(t) { this.title = t; return this; }
  setHelpText(t) { this.help = t; return this; }
  setRequired(r) { this.required = r; return this; }
  setChoiceValues(values) {
    assert.ok(['MULTIPLE_CHOICE', 'CHECKBOX', 'LIST'].includes(this.type));
    assert.ok(Array.isArray(values) && values.length > 0);
    this.choices = values.slice();
    return this;
  }
  setValidation(v) {
    assert.ok(['TEXT', 'PARAGRAPH_TEXT'].includes(this.type));
    assert.equal(v.forType, this.type, 'a paragraph validation on a text item or the reverse');
    this.validation = v.rule;
    return this;
  }
  clearValidation() { this.validation = null; return this; }
  as(type) {
    assert.equal(this.type, type, `as${type} on a ${this.type} item`);
    return this;
  }
  asTextItem() { return this.as('TEXT'); }
  asParagraphTextItem() { return this.as('PARAGRAPH_TEXT'); }
  asMultipleChoiceItem() { return this.as('MULTIPLE_CHOICE'); }
  asCheckboxItem() { return this.as('CHECKBOX'); }
  asListItem() { return this.as('LIST'); }
  asDateItem() { return this.as('DATE'); }
  describe() {
    // Through JSON: arrays made inside the vm context have that realm's prototypes, which deepStrictEqual
    // would count as a difference.
    return JSON.parse(JSON.stringify({
      title: this.title, type: this.type, help_text: this.help, required: this.required,
      choices: this.choices, validation: this.validation,
    }));
  }
}
FakeItem.next = 0;

class FakeForm {
  constructor(id, title) {
    this.id = id;
    this.title = title;
    this.description = '';
    this.collectEmail = false;
    this.published = false;
    this.items = [];
    this.responses = [];
  }
  getId() { return this.id; }
  setTitle(t) { this.title = t; return this; }
  setDescription(d) { this.description = d; return this; }
  setCollectEmail(c) { this.collectEmail = c; return this; }
  setPublished(p) { this.published = p; return this; }
  getEditUrl() { return `https://docs.google.com/forms/d/${this.id}/edit`; }
  getPublishedUrl() { return `https://docs.google.com/forms/d/e/${this.id}/viewform`; }
  getItems() { return this.items.slice(); }
  add(type) { const item = new FakeItem(this, type); this.items.push(item); return item; }
  addTextItem() { return this.add('TEXT'); }
  addParagraphTextItem() { return this.add('PARAGRAPH_TEXT'); }
  addMultipleChoiceItem() { return this.add('MULTIPLE_CHOICE'); }
  addCheckboxItem() { return this.add('CHECKBOX'); }
  addListItem() { return this.add('LIST'); }
  addDateItem() { return this.add('DATE'); }
  addSectionHeaderItem() { return this.add('SECTION_HEADER'); }
  deleteItem(item) {
    const i = this.items.indexOf(item);
    assert.ok(i >= 0);
    this.items.splice(i, 1);
  }
  moveItem(item, to) {
    assert.ok(to >= 0 && to < this.items.length, `moveItem to ${to} of ${this.items.length}`);
    this.deleteItem(item);
    this.items.splice(to, 0, item);
    return item;
  }
  getResponses() { return this.responses.slice(); }
  getResponse(id) {
    const r = this.responses.find((x) => x.getId() === id);
    if (!r) throw new Error(`No response with ID ${id}`);
    return r;
  }
}

const forms = new Map();
// The rules each builder really has (TextValidationBuilder, ParagraphTextValidationBuilder).
const PATTERN_RULES = [
  'requireTextMatchesPattern', 'requireTextContainsPattern', 'requireTextDoesNotMatchPattern',
  'requireTextDoesNotContainPattern', 'requireTextLengthLessThanOrEqualTo', 'requireTextLengthGreaterThanOrEqualTo',
];
const RULES = {
  TEXT: [
    ...PATTERN_RULES, 'requireWholeNumber', 'requireNumber', 'requireNumberBetween',
    'requireNumberGreaterThanOrEqualTo', 'requireNumberLessThanOrEqualTo', 'requireTextIsUrl', 'requireTextIsEmail',
  ],
  PARAGRAPH_TEXT: PATTERN_RULES,
};
function validationBuilder(forType) {
  const rule = { rule: null, args: [], help_text: '' };
  const b = { forType };
  for (const m of RULES[forType]) {
    b[m] = (...args) => {
      // Forms keeps one rule per question: a second call would silently replace the first.
      assert.equal(rule.rule, null, `second rule ${m} after ${rule.rule}`);
      rule.rule = m;
      rule.args = args;
      return b;
    };
  }
  b.setHelpText = (t) => { rule.help_text = t; return b; };
  b.build = () => {
    assert.ok(rule.rule, 'a validation without a rule');
    return { forType, rule };
  };
  return b;
}
const FormApp = {
  ItemType,
  create(title) {
    const form = new FakeForm(`FORM${forms.size + 1}`, title);
    forms.set(form.id, form);
    return form;
  },
  openById(id) {
    if (!forms.has(id)) throw new Error(`No item with the given ID could be found: ${id}`);
    return forms.get(id);
  },
  createTextValidation: () => validationBuilder('TEXT'),
  createParagraphTextValidation: () => validationBuilder('PARAGRAPH_TEXT'),
};

// ---- ScriptApp, SpreadsheetApp, UrlFetchApp -------------------------------------------------------

const triggers = [];
const ScriptApp = {
  getProjectTriggers: () => triggers.slice(),
  newTrigger(handler) {
    const t = { handler, source: null, kind: null, every: null, uid: `T${triggers.length + 1}` };
    const trigger = {
      getHandlerFunction: () => t.handler,
      getTriggerSourceId: () => t.source,
      getUniqueId: () => t.uid,
      spec: t,
    };
    const builder = {
      forForm(form) { t.source = form.getId(); return builder; },
      onFormSubmit() { t.kind = 'formSubmit'; return builder; },
      timeBased() { t.kind = 'time'; return builder; },
      everyMinutes(n) { t.every = n; return builder; },
      create() { triggers.push(trigger); return trigger; },
    };
    return builder;
  },
};

const sheets = new Map();
const SpreadsheetApp = {
  create(name) {
    const rows = [];
    const sheet = { name: 'Sheet1', rows, setName(n) { sheet.name = n; return sheet; }, appendRow(r) { rows.push(r); return sheet; } };
    const ss = { id: `SS${sheets.size + 1}`, getId: () => ss.id, getSheets: () => [sheet], getSheetByName: (n) => (sheet.name === n ? sheet : null) };
    sheets.set(ss.id, ss);
    return ss;
  },
  openById(id) {
    if (!sheets.has(id)) throw new Error('not found');
    return sheets.get(id);
  },
};

const requests = [];
let replies = [];
const UrlFetchApp = {
  fetch(url, options) {
    requests.push({ url, options, at: clock.ms });
    const next = replies.shift();
    assert.ok(next, 'more fetches than scripted replies');
    if (next.throws) throw new Error(next.throws);
    return {
      getResponseCode: () => next.code,
      getContentText: () => next.text || '',
      getHeaders: () => next.headers || {},
    };
  },
};

// ---- load Code.gs -------------------------------------------------------------------------------

const context = vm.createContext({
  Utilities, PropertiesService, LockService, FormApp, ScriptApp, SpreadsheetApp, UrlFetchApp,
  console: {
    log: (line) => logLines.push(String(line)),
    warn: (line) => logLines.push(`WARN ${line}`),
  },
});
vm.runInContext('Date.now = function () { return __clock.ms; };', Object.assign(context, { __clock: clock }));
vm.runInContext(fs.readFileSync(codePath, 'utf8'), context, { filename: codePath });
const gs = context;
// Objects made by Code.gs come from the vm's realm (other prototypes): compare them as plain JSON.
const plain = (value) => JSON.parse(JSON.stringify(value));

// ---- 1. signing -----------------------------------------------------------------------------------

const vectorHeader = gs.huizongSignature(vector.secret, vector.timestamp, vector.body);
assert.equal(vectorHeader, vector.header);
const ascii = gs.huizongAsciiJson({ name: '武进', n: 1, emoji: '😀' });
assert.match(ascii, /^[\x20-\x7e]*$/);

// ---- 2. building the form, again, and after the spec changes ---------------------------------------

const spec = JSON.parse(specText);
const titles = (form) => form.items.map((i) => i.title);
assert.throws(() => gs.buildForm(spec), /Script properties/); // no webhook settings yet
const first = plain(gs.buildForm(specText, { webhookUrl: WEBHOOK_URL, secret: SECRET }));
const form = forms.get(first.form_id);
assert.equal(first.created, true);
assert.equal(first.questions_added, spec.questions.length);
assert.deepEqual(titles(form), spec.questions.map((q) => q.title));
assert.equal(form.title, spec.title);
assert.equal(form.description, spec.description);
assert.equal(form.collectEmail, true);
const builtItems = form.items.map((i) => i.describe());
const triggerSpecs = () => triggers.map((t) => t.spec);
assert.deepEqual(triggerSpecs().map((t) => [t.handler, t.kind, t.source, t.every]), [
  ['onFormSubmit', 'formSubmit', form.id, null],
  ['retryFailed', 'time', null, 10],
]);

const again = plain(gs.buildForm(spec));
assert.equal(again.form_id, form.id);
assert.equal(again.created, false);
assert.equal(again.questions_added, 0);
assert.equal(again.questions_updated, spec.questions.length);
assert.equal(triggers.length, 2, 'setup() run twice installed triggers twice');
assert.deepEqual(form.items.map((i) => i.describe()), builtItems);

// The organiser adds a note by hand; the campaign then gains a question, changes a help text and turns a
// one-line question into a paragraph (no responses yet, so the item is replaced).
form.addTextItem().setTitle('组织方手工添加的问题');
const changed = JSON.parse(specText);
changed.questions[1].help_text = '新的说明';
changed.questions[1].validation = null;
// A question with a length rule, which a paragraph keeps.
const retyped = changed.questions.find((q) => q.type === 'TEXT' && q.validation && q.validation.kind === 'max_length');
assert.ok(retyped, 'the spec has no one-line question with a length rule');
retyped.type = 'PARAGRAPH_TEXT';
changed.questions.splice(2, 0, { title: '新增问题', help_text: '', type: 'TEXT', choices: [], required: false, validation: null, role: 'field', table: 't', field: 'f' });
const third = plain(gs.buildForm(changed));
assert.equal(third.questions_added, 1);
assert.equal(third.questions_replaced, 1);
assert.deepEqual(third.not_in_spec, ['组织方手工添加的问题']);
assert.deepEqual(titles(form), [...changed.questions.map((q) => q.title), '组织方手工添加的问题']);
assert.equal(form.items[1].help, '新的说明');
assert.equal(form.items[1].validation, null, 'a rule the spec dropped is still on the form');
const retypedItem = form.items.find((i) => i.title === retyped.title);
assert.equal(retypedItem.type, 'PARAGRAPH_TEXT');
assert.equal(retypedItem.validation.rule, 'requireTextLengthLessThanOrEqualTo');
// And back to the campaign's real spec.
const fourth = plain(gs.buildForm(spec));
assert.equal(fourth.questions_replaced, 1);
assert.deepEqual(fourth.not_in_spec.sort(), ['新增问题', '组织方手工添加的问题'].sort());
assert.deepEqual(form.items.slice(0, spec.questions.length).map((i) => i.describe()), builtItems);
assert.equal(triggers.length, 2);

// setup() reads spec.gs (var HUIZONG_SPEC = <form-spec --gs output>), or a list of such specs.
assert.throws(() => gs.setup(), /spec\.gs/);
vm.runInContext(`var HUIZONG_SPEC = ${specText};`, context);
assert.equal(plain(gs.setup()).form_id, form.id);
context.HUIZONG_SPEC = [spec];
assert.deepEqual(plain(gs.setup()).map((r) => [r.form_id, r.created, r.questions_added]), [[form.id, false, 0]]);
assert.equal(forms.size, 1);

// ---- 3. delivering a response: retried on 503, a network error and 429 (Retry-After), then 200 ------

function submit(responseId, minutesLater) {
  const submittedAt = new Date(clock.ms + minutesLater * 60000);
  const itemResponses = form.items
    .filter((item) => Object.prototype.hasOwnProperty.call(answers, item.title))
    .map((item) => ({ getItem: () => item, getResponse: () => answers[item.title] }));
  const response = {
    getId: () => responseId,
    getTimestamp: () => submittedAt,
    getRespondentEmail: () => respondentEmail || '',
    getItemResponses: () => itemResponses,
  };
  form.responses.push(response);
  return { source: form, response, triggerUid: 'T1', authMode: 'FULL' };
}

const delivered = [];
function takeRequests() {
  const out = requests.splice(0).map((r) => {
    assert.equal(r.url, WEBHOOK_URL);
    assert.equal(r.options.method, 'post');
    assert.equal(r.options.contentType, 'application/json');
    assert.equal(r.options.muteHttpExceptions, true);
    assert.match(r.options.payload, /^[\x20-\x7e]*$/, 'the body is not ASCII-only');
    return { body: r.options.payload, signature: r.options.headers['X-Huizong-Signature'], at: Math.floor(r.at / 1000) };
  });
  delivered.push(...out);
  return out;
}

replies = [
  { code: 503, text: 'unavailable' },
  { throws: 'Address unavailable: hooks.example.invalid' },
  { code: 429, headers: { 'retry-after': '7' } },
  { code: 200, text: '{"ok":true}' },
];
const ok = plain(gs.onFormSubmit(submit('R-OK', 0)));
assert.equal(ok.ok, true);
assert.equal(ok.attempts, 4);
const okRequests = takeRequests();
assert.equal(new Set(okRequests.map((r) => r.body)).size, 1, 'a retry sent a different body');
assert.equal(sleeps.length, 3);
assert.ok(sleeps[0] >= 1000 && sleeps[0] <= 2000, `first wait ${sleeps[0]}`);
assert.ok(sleeps[1] >= 2000 && sleeps[1] <= 4000, `second wait ${sleeps[1]}`);
assert.equal(sleeps[2], 7000, 'Retry-After not honoured');
// Each attempt is signed at its own time, so a late retry is not refused as stale.
assert.deepEqual(okRequests.map((r) => Number(r.signature.match(/^t=(\d+),/)[1])), okRequests.map((r) => r.at));
assert.equal([...props.keys()].filter((k) => /^HUIZONG_(PENDING|FAILED):/.test(k)).length, 0);

// ---- 4. refused for good (401): one attempt, kept as failed, never retried by the timer --------------

sleeps.length = 0;
replies = [{ code: 401, text: '{"ok":false,"error":"signature mismatch"}' }];
const refused = plain(gs.onFormSubmit(submit('R-401', 1)));
assert.deepEqual([refused.ok, refused.retryable, refused.attempts, refused.code], [false, false, 1, 401]);
takeRequests();
assert.equal(sleeps.length, 0);
assert.ok(props.has(`HUIZONG_FAILED:${form.id}:R-401`));
assert.ok(!props.has(`HUIZONG_PENDING:${form.id}:R-401`));

// ---- 5. the run's time budget: long Retry-After waits stop the run before Apps Script would kill it ---

replies = Array.from({ length: 5 }, () => ({ code: 503, headers: { 'Retry-After': '60' } }));
const slow = plain(gs.onFormSubmit(submit('R-SLOW', 2)));
assert.equal(slow.ok, false);
assert.equal(slow.attempts, 4, 'the 5th attempt would start past the 4-minute budget');
takeRequests();
replies = [];
const pendingKey = `HUIZONG_PENDING:${form.id}:R-SLOW`;
assert.equal(JSON.parse(props.get(pendingKey)).attempts, 4);

// ---- 6. retryFailed() on the timer delivers it later; the refused one stays failed -------------------

clock.ms += 10 * 60000;
replies = [{ code: 200, text: '{"ok":true}' }];
const retried = plain(gs.retryFailed());
assert.deepEqual(retried, { delivered: 1, pending: 0 });
const later = takeRequests();
assert.equal(later.length, 1);
assert.ok(!props.has(pendingKey));
assert.ok(props.has(`HUIZONG_FAILED:${form.id}:R-401`));

// After the organiser fixes the secret, requeueFailed() moves the failed one back for the timer.
assert.equal(gs.requeueFailed(), 1);
replies = [{ code: 200 }];
assert.deepEqual(plain(gs.retryFailed()), { delivered: 1, pending: 0 });
takeRequests();

// ---- 7. a question changing type once responses exist is left as it is ------------------------------

const kept = plain(gs.buildForm(changed));
assert.deepEqual(kept.type_kept, [retyped.title]);
assert.equal(form.items.find((i) => i.title === retyped.title).type, 'TEXT');

// ---- 8. the log: every attempt, never the secret ---------------------------------------------------

const logSheet = [...sheets.values()][0].getSheets()[0];
assert.equal(logSheet.name, 'huizong_log');
const deliverRows = logSheet.rows.filter((r) => r[1] === 'deliver');
assert.equal(deliverRows.length, delivered.length);
for (const line of [...logLines, ...logSheet.rows.map((r) => r.join('\t'))]) {
  assert.ok(!line.includes(SECRET), 'the secret reached the log');
}

process.stdout.write(JSON.stringify({
  vector_header: vectorHeader,
  ascii,
  form_items: builtItems,
  deliveries: delivered,
  statuses: deliverRows.map((r) => r[5]),
}));
