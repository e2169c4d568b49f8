-- The engine's own core: model overlay, actions, error reports, change notification.
-- Runs on PostgreSQL 15 and PGlite (PostgreSQL 18).

CREATE SCHEMA IF NOT EXISTS meta;
COMMENT ON SCHEMA meta IS 'The engine''s own tables: the definition (what the app is) and its runtime records.';

CREATE TABLE meta.engine_state (
  state_key   text PRIMARY KEY,
  state_value jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE meta.engine_state IS 'Facts the engine keeps about this database, such as when the definition was first seeded. Not part of the definition.';
COMMENT ON COLUMN meta.engine_state.state_key IS 'Name of the fact, e.g. seeded_at.';
COMMENT ON COLUMN meta.engine_state.state_value IS 'Value of the fact, as JSON.';
COMMENT ON COLUMN meta.engine_state.updated_at IS 'When the fact was last written.';

CREATE TABLE meta.entities (
  entity_name   text PRIMARY KEY CHECK (entity_name ~ '^[a-z_][a-z0-9_.]*$'),
  label         text,
  description   text,
  exposed       boolean NOT NULL DEFAULT true,
  default_order text,
  max_rows      integer CHECK (max_rows IS NULL OR max_rows > 0),
  natural_key   text[],
  definition_filter text,
  icon          text
);
COMMENT ON TABLE meta.entities IS 'Overlay on the introspected catalog: how a table or view is presented and served. A table without a row here is still served with defaults taken from the catalog.';
COMMENT ON COLUMN meta.entities.entity_name IS 'The name the API serves the table or view under (its table name, or schema.table when two schemas share a name).';
COMMENT ON COLUMN meta.entities.label IS 'Human name shown in the UI; defaults to the table name in title case.';
COMMENT ON COLUMN meta.entities.description IS 'Overrides the table comment in API docs and UI.';
COMMENT ON COLUMN meta.entities.exposed IS 'False hides the table from the API and OpenAPI entirely.';
COMMENT ON COLUMN meta.entities.default_order IS 'Order applied when a request gives none, in the API''s order grammar, e.g. calculated_apr.desc.';
COMMENT ON COLUMN meta.entities.max_rows IS 'Largest page this entity serves; overrides system configuration api.max_rows.';
COMMENT ON COLUMN meta.entities.natural_key IS 'Columns that name a row stably in definition files, when the catalog''s first unique key is not the right one.';
COMMENT ON COLUMN meta.entities.definition_filter IS 'For a definition table that also holds users'' rows: a filter (API grammar) selecting the rows that belong to the definition files, e.g. created_by_user_id=is.null. Import, export and deletion touch only those rows.';
COMMENT ON COLUMN meta.entities.icon IS 'Icon name used by the UI navigation.';

CREATE TABLE meta.fields (
  entity_name text NOT NULL REFERENCES meta.entities (entity_name) ON UPDATE CASCADE ON DELETE CASCADE,
  field_name  text NOT NULL,
  label       text,
  description text,
  format      text CHECK (format IS NULL OR format IN ('text','number','integer','money','percent','rate','address','hash','datetime','relative_time','date','boolean','status','json','markdown','url')),
  widget      text,
  hidden      boolean NOT NULL DEFAULT false,
  readonly    boolean NOT NULL DEFAULT false,
  validation  jsonb,
  sort_order  integer,
  PRIMARY KEY (entity_name, field_name)
);
COMMENT ON TABLE meta.fields IS 'Overlay on introspected columns: labels, display formats, widgets, visibility and validation.';
COMMENT ON COLUMN meta.fields.entity_name IS 'Entity the field belongs to.';
COMMENT ON COLUMN meta.fields.field_name IS 'Column name in the table or view.';
COMMENT ON COLUMN meta.fields.label IS 'Human name shown in tables and forms.';
COMMENT ON COLUMN meta.fields.description IS 'Overrides the column comment in API docs and UI help.';
COMMENT ON COLUMN meta.fields.format IS 'How values are displayed: money, percent, rate, address, relative_time, status, ...';
COMMENT ON COLUMN meta.fields.widget IS 'Form widget name when the default for the type is not wanted.';
COMMENT ON COLUMN meta.fields.hidden IS 'Hidden from default table columns and forms (still readable through the API).';
COMMENT ON COLUMN meta.fields.readonly IS 'Refused in create and update bodies.';
COMMENT ON COLUMN meta.fields.validation IS 'Extra validation as JSON: {"min":0,"max":1,"pattern":"^0x[0-9a-fA-F]{40}$","message":"..."}';
COMMENT ON COLUMN meta.fields.sort_order IS 'Position among the entity''s fields in UI lists; catalog order when null.';

CREATE TABLE meta.actions (
  action_name  text PRIMARY KEY CHECK (action_name ~ '^[a-z_][a-z0-9_]*$'),
  label        text,
  description  text,
  kind         text NOT NULL CHECK (kind IN ('sql_function','plugin')),
  target       text NOT NULL,
  params_schema jsonb NOT NULL DEFAULT '{"type":"object","properties":{}}',
  returns      text NOT NULL DEFAULT 'json' CHECK (returns IN ('json','rows','row','none')),
  permission   text,
  confirm      text,
  enabled      boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE meta.actions IS 'Named operations callable at POST /api/rpc/{action_name} and from UI buttons. Either a database function or a building block registered by a plugin.';
COMMENT ON COLUMN meta.actions.action_name IS 'Name used in the URL and by buttons.';
COMMENT ON COLUMN meta.actions.label IS 'Button text.';
COMMENT ON COLUMN meta.actions.description IS 'What the action does; shown in API docs.';
COMMENT ON COLUMN meta.actions.kind IS 'sql_function: calls a function in an exposed schema with named arguments; plugin: calls a named building block.';
COMMENT ON COLUMN meta.actions.target IS 'Function name (schema.function) or plugin building-block name.';
COMMENT ON COLUMN meta.actions.params_schema IS 'JSON Schema of the request body; checked before the action runs.';
COMMENT ON COLUMN meta.actions.returns IS 'Shape of the result: json (a value), rows (a list), row (one object), none.';
COMMENT ON COLUMN meta.actions.permission IS 'Permission name required to call the action (enforced once access rules are installed).';
COMMENT ON COLUMN meta.actions.confirm IS 'Confirmation text the UI shows before calling; null for no confirmation.';
COMMENT ON COLUMN meta.actions.enabled IS 'False makes the action refuse calls.';

CREATE TABLE meta.error_reports (
  error_id       uuid PRIMARY KEY,
  code           text NOT NULL,
  status         integer NOT NULL,
  message        text NOT NULL,
  details        jsonb,
  hint           text,
  fingerprint    text NOT NULL,
  stack          text,
  request        jsonb,
  user_id        text,
  role_name      text,
  definition_refs jsonb NOT NULL DEFAULT '[]',
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX error_reports_created_at_idx ON meta.error_reports (created_at DESC);
CREATE INDEX error_reports_fingerprint_idx ON meta.error_reports (fingerprint, created_at DESC);
COMMENT ON TABLE meta.error_reports IS 'Every error the engine answered with, reachable at /_errors/{error_id} as a page and as JSON. Repeats share a fingerprint.';
COMMENT ON COLUMN meta.error_reports.error_id IS 'Random id given in the error response.';
COMMENT ON COLUMN meta.error_reports.code IS 'Error code from the engine''s registry.';
COMMENT ON COLUMN meta.error_reports.status IS 'HTTP status answered.';
COMMENT ON COLUMN meta.error_reports.message IS 'What went wrong, as shown to the caller.';
COMMENT ON COLUMN meta.error_reports.details IS 'Structured detail: the parameter, column, row or value at fault.';
COMMENT ON COLUMN meta.error_reports.hint IS 'How to fix it.';
COMMENT ON COLUMN meta.error_reports.fingerprint IS 'Hash of code, route and location; equal for repeats of the same fault.';
COMMENT ON COLUMN meta.error_reports.stack IS 'Stack trace, for unexpected errors only.';
COMMENT ON COLUMN meta.error_reports.request IS 'Method, path, query and headers (secrets removed).';
COMMENT ON COLUMN meta.error_reports.user_id IS 'User who made the request, if signed in.';
COMMENT ON COLUMN meta.error_reports.role_name IS 'Role the request ran as.';
COMMENT ON COLUMN meta.error_reports.definition_refs IS 'Definition rows involved, e.g. [{"table":"meta.entities","key":"positions"}].';
COMMENT ON COLUMN meta.error_reports.created_at IS 'When the error happened.';

-- Change notification: definition tables notify the model; DDL notifies through an event trigger.
CREATE FUNCTION meta.notify_model_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('carry_model', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION meta.notify_model_change() IS 'Statement trigger on definition tables: tells every engine process to reload its model.';

CREATE FUNCTION meta.watch_definition(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TRIGGER IF EXISTS carry_model_change ON %s', tbl);
  EXECUTE format('CREATE TRIGGER carry_model_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION meta.notify_model_change()', tbl);
END $$;
COMMENT ON FUNCTION meta.watch_definition(regclass) IS 'Attaches the model-change trigger to a definition table.';

SELECT meta.watch_definition('meta.entities');
SELECT meta.watch_definition('meta.fields');
SELECT meta.watch_definition('meta.actions');

CREATE FUNCTION meta.notify_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('carry_model', 'ddl');
END $$;
COMMENT ON FUNCTION meta.notify_ddl() IS 'Event trigger: schema changes reload the model in every engine process.';

-- Event triggers need a superuser; where the engine runs without one it polls the catalog instead.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'carry_ddl_end') THEN
    CREATE EVENT TRIGGER carry_ddl_end ON ddl_command_end EXECUTE FUNCTION meta.notify_ddl();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'carry_ddl_drop') THEN
    CREATE EVENT TRIGGER carry_ddl_drop ON sql_drop EXECUTE FUNCTION meta.notify_ddl();
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'event triggers not installed (not a superuser): the engine will poll the catalog';
END $$;
