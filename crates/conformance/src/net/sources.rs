//! The one allocator of loopback source addresses. On loopback every scenario, every extra
//! client of a stateful step and every batch of property cases gets its own `127.a.x.y`, so
//! per-IP rate-limit state never leaks from one to another; each user has its own block `a`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU32, Ordering};

/// Who a source address is for: each block is a distinct `127.a.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceBlock {
    /// One per scenario World: `127.0.x.y`, `x >= 1`.
    Scenario,
    /// The properties phase: `127.1.x.y`.
    Properties,
    /// Extra clients of the stateful steps ("another client"): `127.200.x.y`.
    ExtraClient,
}

impl SourceBlock {
    /// The second octet and the first third octet of this block, and its counter.
    fn layout(self) -> (u8, u32, &'static AtomicU32) {
        static SCENARIO: AtomicU32 = AtomicU32::new(0);
        static PROPERTIES: AtomicU32 = AtomicU32::new(0);
        static EXTRA: AtomicU32 = AtomicU32::new(0);
        match self {
            SourceBlock::Scenario => (0, 1, &SCENARIO),
            SourceBlock::Properties => (1, 0, &PROPERTIES),
            SourceBlock::ExtraClient => (200, 0, &EXTRA),
        }
    }
}

/// The next unused loopback address of `block` (254 per third octet; wraps after ~64k).
pub fn next_source(block: SourceBlock) -> IpAddr {
    let (a, first_x, counter) = block.layout();
    let i = counter.fetch_add(1, Ordering::Relaxed);
    let x = first_x + (i / 254) % 254;
    let y = 1 + i % 254;
    IpAddr::V4(Ipv4Addr::new(127, a, x as u8, y as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_loopback_distinct_and_in_their_block() {
        for block in [
            SourceBlock::Scenario,
            SourceBlock::Properties,
            SourceBlock::ExtraClient,
        ] {
            let a = next_source(block);
            let b = next_source(block);
            assert_ne!(a, b);
            assert!(a.is_loopback() && b.is_loopback());
        }
        let IpAddr::V4(s) = next_source(SourceBlock::Scenario) else {
            panic!("not v4")
        };
        assert_eq!(s.octets()[1], 0);
        assert!(s.octets()[2] >= 1);
        let IpAddr::V4(p) = next_source(SourceBlock::Properties) else {
            panic!("not v4")
        };
        assert_eq!(p.octets()[1], 1);
        let IpAddr::V4(e) = next_source(SourceBlock::ExtraClient) else {
            panic!("not v4")
        };
        assert_eq!(e.octets()[1], 200);
    }
}
