//! The compliance API's authorization matrix: `compliance_matrix.md` is parsed, checked to
//! cover every route × verb × record relationship, and every cell (row × principal kind ×
//! role) is sent with a real access token, on fresh objects, on both engines.

use crate::both_engines;
use crate::compliance_helpers::Actor;
use crate::helpers::{spawn_app, Engine, TestApp};
use crate::mgmt_helpers::unique;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const TABLE: &str = include_str!("compliance_matrix.md");
const CALLERS: [&str; 9] = [
    "person:admin",
    "person:compliance_manager",
    "person:user",
    "person:external_auditor",
    "sp:admin",
    "sp:api_admin",
    "sp:compliance_manager",
    "sp:user",
    "sp:external_auditor",
];
const OBJECTS: [&str; 5] = ["programs", "controls", "risks", "tasks", "audits"];

#[derive(Debug)]
struct Row {
    operation: String,
    method: Method,
    path: String,
    body: Option<String>,
    record: String,
    /// Each caller's expected status and, where the table names one, error code.
    expected: Vec<(u16, Option<String>)>,
}

impl Row {
    /// The collection the row addresses (`programs`, …, `users`).
    fn collection(&self) -> &str {
        self.path.split('/').nth(2).expect("/v1/<collection>")
    }
}

fn parse_table() -> Vec<Row> {
    let mut lines = TABLE.lines().map(str::trim).filter(|l| l.starts_with('|'));
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect()
    };
    let header = cells(lines.next().expect("a header row"));
    assert_eq!(&header[..4], ["operation", "request", "body", "record"]);
    assert_eq!(&header[4..], CALLERS, "the caller columns");
    let _separator = lines.next();
    lines
        .map(|line| {
            let c = cells(line);
            assert_eq!(c.len(), header.len(), "row has every column: {line}");
            let (method, path) = c[1].split_once(' ').expect("`METHOD /path`");
            Row {
                operation: c[0].clone(),
                method: method.parse().expect("method"),
                path: path.to_owned(),
                body: Some(c[2].clone()).filter(|b| !b.is_empty()),
                record: c[3].clone(),
                expected: c[4..]
                    .iter()
                    .map(|cell| {
                        let (status, code) = match cell.split_once(' ') {
                            Some((status, code)) => (status, Some(code.trim().to_owned())),
                            None => (cell.as_str(), None),
                        };
                        let status = status
                            .parse()
                            .unwrap_or_else(|_| panic!("status in {line}"));
                        (status, code)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Every (request, record) the table must have, exactly once.
fn required_cells() -> BTreeSet<(String, String)> {
    let mut cells = BTreeSet::new();
    let mut add = |req: String, record: &str| {
        cells.insert((req, record.to_owned()));
    };
    for c in OBJECTS {
        add(format!("GET /v1/{c}"), "-");
        for owner in ["owner=person", "owner=self", "owner=omitted"] {
            add(format!("POST /v1/{c}"), owner);
        }
        let records: &[&str] = if c == "audits" {
            &["listed", "unlisted", "other_org"]
        } else {
            &["same_org", "other_org"]
        };
        for verb in ["GET", "PATCH", "DELETE"] {
            for record in records.iter().chain(&["missing"]) {
                add(format!("{verb} /v1/{c}/{{id}}"), record);
            }
        }
        add(format!("PATCH /v1/{c}/{{id}}"), "owner=self");
    }
    add("POST /v1/tasks".into(), "assignee=self");
    add("PATCH /v1/tasks/{id}".into(), "assignee=self");
    add("GET /v1/users".into(), "-");
    for record in ["same_org", "service_principal", "other_org", "missing"] {
        add("GET /v1/users/{id}".into(), record);
    }
    cells
}

/// What every cell needs: both organizations, their programs, the callers.
struct World {
    fixture: Actor,
    theirs: Actor,
    their_admin: String,
    our_program: String,
    their_program: String,
    callers: HashMap<&'static str, Actor>,
}

async fn world(app: &TestApp) -> World {
    let fixture = app.sa_actor("admin").await;
    let (_, their_admin, theirs) = app.other_org_actor().await;
    let our_program = app.program(&fixture).await;
    let their_program = app.program_of(&theirs, &their_admin).await;
    let mut callers = HashMap::new();
    for caller in CALLERS {
        let (kind, role) = caller.split_once(':').expect("kind:role");
        let actor = match kind {
            "person" => app.personal_actor(role).await,
            _ => app.sa_actor(role).await,
        };
        callers.insert(caller, actor);
    }
    World {
        fixture,
        theirs,
        their_admin,
        our_program,
        their_program,
        callers,
    }
}

/// A fresh target for a row's `{id}`, related to `caller` as `record` says.
async fn target(
    app: &TestApp,
    w: &World,
    collection: &str,
    record: &str,
    caller: &Actor,
) -> String {
    if collection == "users" {
        return match record {
            "same_org" => app.admin_id.clone(),
            "service_principal" => w.fixture.principal_id.clone(),
            "missing" => format!("usr_doesnotexist{}", unique()),
            _ => w.their_admin.clone(),
        };
    }
    if record == "missing" {
        let prefix = match collection {
            "programs" => "prg",
            "controls" => "ctl",
            "risks" => "rsk",
            "tasks" => "tsk",
            _ => "aud",
        };
        return format!("{prefix}_doesnotexist{}", unique());
    }
    let (maker, owner, program) = match record {
        "other_org" => (&w.theirs, &w.their_admin, &w.their_program),
        _ => (&w.fixture, &app.admin_id, &w.our_program),
    };
    let mut body = json!({"name": format!("Target {}", unique()), "owner_id": owner});
    if collection == "controls" {
        body["program_id"] = json!(program);
    }
    // An audit handed over is one that lists the caller, so an External auditor meets the
    // field rule rather than the record rule.
    if record == "listed" || (collection == "audits" && record == "owner=self") {
        body["auditor_ids"] = json!([caller.principal_id]);
    }
    app.create_object(maker, collection, body).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn every_cell_of_the_compliance_matrix_holds(engine: Engine) {
    let rows = parse_table();
    let present: Vec<(String, String)> = rows
        .iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.record.clone()))
        .collect();
    let unique_present: BTreeSet<_> = present.iter().cloned().collect();
    assert_eq!(unique_present.len(), present.len(), "a row appears twice");
    assert_eq!(
        unique_present,
        required_cells(),
        "the table covers every cell"
    );

    let app = spawn_app(engine).await;
    app.enable_m2m().await;
    let w = world(&app).await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in &rows {
        for (caller_name, (expected, code)) in CALLERS.iter().zip(&row.expected) {
            let expected = *expected;
            let caller = &w.callers[caller_name];
            let path = if row.path.contains("{id}") {
                let id = target(&app, &w, row.collection(), &row.record, caller).await;
                row.path.replace("{id}", &id)
            } else {
                row.path.clone()
            };
            let body: Option<Value> = row.body.as_ref().map(|b| {
                let text = b
                    .replace("{person}", &app.admin_id)
                    .replace("{me}", &caller.principal_id)
                    .replace("{program}", &w.our_program)
                    .replace("{n}", &unique());
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("body of {row:?}: {e}"))
            });
            let reply = app
                .call(row.method.clone(), &path, &caller.token, body)
                .await;
            cells += 1;
            let want_code = code.as_deref().or(match expected {
                403 => Some("insufficient_scope"),
                404 => Some("not_found"),
                422 => Some("service_principal_cannot_own"),
                _ => None,
            });
            let status = reply.status.as_u16();
            if status != expected || want_code.is_some_and(|c| c != reply.code()) {
                failures.push(format!(
                    "{} `{} {}` [{}] as {caller_name}: expected {expected} {}, got {status}: {}",
                    row.operation,
                    row.method,
                    row.path,
                    row.record,
                    want_code.unwrap_or(""),
                    reply.text
                ));
            }
        }
    }
    assert_eq!(cells, rows.len() * CALLERS.len());
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ from compliance_matrix.md:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

both_engines!(every_cell_of_the_compliance_matrix_holds);
