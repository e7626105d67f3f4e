-- Compliance resource API (/v1): programs, controls, risks, tasks and audits, and the
-- auditors each audit lists. Times are Unix milliseconds (UTC).
-- Keep in step with ../sqlite/0003_compliance.sql.
--
-- The five kinds share one shape, so they share one table keyed by kind; the kind-specific
-- columns are constrained to their kind. Owners and assignees reference principals, but that
-- they are active people of the same organization is checked by the server inside the write
-- transaction (a CHECK cannot see another table).

CREATE TABLE compliance_objects (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations(id),
    kind                  TEXT NOT NULL
        CHECK (kind IN ('program', 'control', 'risk', 'task', 'audit')),
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    internal_notes        TEXT NOT NULL DEFAULT '',
    owner_id              TEXT NOT NULL REFERENCES principals(id),
    program_id            TEXT REFERENCES compliance_objects(id),
    assignee_id           TEXT REFERENCES principals(id),
    created_by            TEXT NOT NULL REFERENCES principals(id),
    created_via_client_id TEXT NOT NULL,
    updated_by            TEXT NOT NULL REFERENCES principals(id),
    via_client_id         TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    CHECK ((kind = 'control') = (program_id IS NOT NULL)),
    CHECK ((kind = 'task') = (assignee_id IS NOT NULL))
);
-- Lists: one organization's objects of one kind, by id (the cursor order).
CREATE INDEX compliance_objects_list ON compliance_objects(org_id, kind, id);
CREATE INDEX compliance_objects_program ON compliance_objects(program_id);

CREATE TABLE compliance_auditors (
    audit_id     TEXT NOT NULL REFERENCES compliance_objects(id) ON DELETE CASCADE,
    principal_id TEXT NOT NULL REFERENCES principals(id),
    PRIMARY KEY (audit_id, principal_id)
);
-- An External auditor's list: the audits that name it.
CREATE INDEX compliance_auditors_principal ON compliance_auditors(principal_id, audit_id);
