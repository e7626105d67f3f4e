//! Scopes (`<object>.<action>`) and sets of them.
//!
//! There are 21 scopes: six objects times four actions, except `user`, which is read-only.
//! A [`ScopeSet`] is a bit set, so intersections on the token path cost nothing.

use std::fmt;
use std::str::FromStr;

/// An object of the compliance API that scopes protect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Object {
    /// `program`
    Program,
    /// `control`
    Control,
    /// `risk`
    Risk,
    /// `task`
    Task,
    /// `audit`
    Audit,
    /// `user` (the directory; read only)
    User,
}

impl Object {
    /// Every object, in catalogue order.
    pub const ALL: [Object; 6] = [
        Object::Program,
        Object::Control,
        Object::Risk,
        Object::Task,
        Object::Audit,
        Object::User,
    ];

    /// The object's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Program => "program",
            Object::Control => "control",
            Object::Risk => "risk",
            Object::Task => "task",
            Object::Audit => "audit",
            Object::User => "user",
        }
    }
}

/// What a scope allows on its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read and list.
    Read,
    /// Create.
    Create,
    /// Update.
    Update,
    /// Delete.
    Delete,
}

impl Action {
    /// Every action, in catalogue order.
    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Update, Action::Delete];

    /// The action's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One permission, such as `control.create`. Built only through [`Scope::new`] or parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope {
    object: Object,
    action: Action,
}

impl Scope {
    /// The scope for `object` and `action`, or `None` for a pair that does not exist
    /// (`user` has only `read`).
    pub fn new(object: Object, action: Action) -> Option<Scope> {
        (object != Object::User || action == Action::Read).then_some(Scope { object, action })
    }

    /// The object this scope protects.
    pub fn object(self) -> Object {
        self.object
    }

    /// The action this scope allows.
    pub fn action(self) -> Action {
        self.action
    }

    /// Every scope, in catalogue order.
    pub fn all() -> impl Iterator<Item = Scope> {
        Object::ALL.into_iter().flat_map(|o| {
            Action::ALL
                .into_iter()
                .filter_map(move |a| Scope::new(o, a))
        })
    }

    fn bit(self) -> u32 {
        1 << (self.object as u32 * 4 + self.action as u32)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.object.as_str(), self.action.as_str())
    }
}

/// The text is not one of the 21 scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`: scopes look like `control.read` (objects: program control risk task audit user; actions: read create update delete; user is read only)")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::all()
            .find(|scope| {
                let (o, a) = (scope.object.as_str(), scope.action.as_str());
                s.len() == o.len() + 1 + a.len()
                    && s.starts_with(o)
                    && s.as_bytes()[o.len()] == b'.'
                    && s.ends_with(a)
            })
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u32);

impl ScopeSet {
    /// No scope.
    pub fn empty() -> ScopeSet {
        ScopeSet(0)
    }

    /// All 21 scopes.
    pub fn all() -> ScopeSet {
        Scope::all().collect()
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    /// Whether the set holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The scopes in both sets.
    pub fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many scopes the set holds.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The scopes, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::all().filter(move |s| self.contains(*s))
    }

    /// The scopes of `self` that are not in `other`, in catalogue order.
    pub fn difference(self, other: ScopeSet) -> impl Iterator<Item = Scope> {
        self.iter().filter(move |s| !other.contains(*s))
    }

    /// Parses a list of scope names; duplicates collapse.
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<ScopeSet, UnknownScope> {
        items.iter().map(|s| s.as_ref().parse::<Scope>()).collect()
    }

    /// Parses an RFC 6749 §3.3 space-delimited scope string.
    pub fn parse_space_delimited(text: &str) -> Result<ScopeSet, UnknownScope> {
        text.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::parse::<Scope>)
            .collect()
    }

    /// The set as a space-delimited string (RFC 6749 §3.3), in catalogue order.
    pub fn to_space_delimited(self) -> String {
        self.names().join(" ")
    }

    /// The scope names, in catalogue order.
    pub fn names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }

    /// The raw bits, for compact storage in caches.
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Self {
        let mut set = ScopeSet::empty();
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_twenty_one_scopes() {
        assert_eq!(Scope::all().count(), 21);
        assert_eq!(ScopeSet::all().len(), 21);
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::all() {
            assert_eq!(scope.to_string().parse::<Scope>(), Ok(scope));
        }
    }

    #[test]
    fn user_has_no_write_scopes() {
        assert!("user.create".parse::<Scope>().is_err());
        assert!("user.read".parse::<Scope>().is_ok());
    }

    #[test]
    fn malformed_scopes_are_refused() {
        for bad in [
            "",
            "control",
            "control.",
            ".read",
            "control.readx",
            "Control.read",
            "controlxread",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }

    #[test]
    fn subset_and_difference_name_the_extra_scope() {
        let small = ScopeSet::parse_list(&["control.read"]).unwrap();
        let big = ScopeSet::parse_list(&["control.read", "risk.delete"]).unwrap();
        assert!(small.is_subset(big));
        assert!(!big.is_subset(small));
        let extra: Vec<String> = big.difference(small).map(|s| s.to_string()).collect();
        assert_eq!(extra, ["risk.delete"]);
    }

    #[test]
    fn space_delimited_parsing_ignores_repeated_spaces() {
        let set = ScopeSet::parse_space_delimited("risk.read  control.read").unwrap();
        assert_eq!(set.to_space_delimited(), "control.read risk.read");
    }
}
