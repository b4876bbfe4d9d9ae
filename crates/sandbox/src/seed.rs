//! The shared seeded data generator for every fake provider.
//!
//! Everything a fake serves is a pure function of the sandbox seed: the same seed gives the same
//! ids, amounts, people and timestamps on every machine and every run. To keep that true across
//! dependency upgrades the generator is implemented here (xoshiro256** seeded through SplitMix64)
//! instead of relying on `rand`'s `StdRng`, whose algorithm may change between versions.
//!
//! Each provider takes its own stream with [`SeedRng::derive`]`(seed, "stripe")`, so adding a
//! provider (or changing how one draws numbers) never changes another provider's data.
//! Time is never the wall clock: seeded data hangs off [`reference_time`], a fixed instant
//! derived from the seed.

/// A small, fast, deterministic PRNG (xoshiro256**).
#[derive(Clone, Debug)]
pub struct SeedRng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, to turn a stream name into a number.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl SeedRng {
    pub fn new(seed: u64) -> SeedRng {
        let mut state = seed;
        SeedRng {
            s: [(); 4].map(|_| splitmix64(&mut state)),
        }
    }

    /// An independent stream for one provider or purpose, e.g. `derive(seed, "stripe.charges")`.
    pub fn derive(seed: u64, stream: &str) -> SeedRng {
        SeedRng::new(seed ^ fnv1a(stream).rotate_left(17))
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`), without modulo bias worth mentioning (Lemire's method).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Pick by integer weights.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.below(total);
        for (item, w) in items {
            if roll < u64::from(*w) {
                return *item;
            }
            roll -= u64::from(*w);
        }
        unreachable!("weights sum to {total}")
    }

    /// Log-uniform in `lo..=hi` (`lo >= 1`): many small values, a long tail of large ones, as
    /// real payment amounts are.
    pub fn log_uniform(&mut self, lo: i64, hi: i64) -> i64 {
        let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
        ((a + (b - a) * self.unit()).exp().round() as i64).clamp(lo, hi)
    }

    pub fn base62(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| BASE62[self.below(62) as usize] as char)
            .collect()
    }

    /// A provider-style object id: `prefix` + 24 base-62 characters (`ch_3Nx…`).
    pub fn object_id(&mut self, prefix: &str) -> String {
        let mut id = String::with_capacity(prefix.len() + 24);
        id.push_str(prefix);
        id.push_str(&self.base62(24));
        id
    }

    pub fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// 2025-03-01T12:00:00Z: the base of every seed's reference time.
pub const REFERENCE_BASE: i64 = 1_740_830_400;

/// The fixed "now" of a seeded data set: [`REFERENCE_BASE`] moved back by up to 14 days
/// (whole minutes) depending on the seed. Never the wall clock, so data is stable.
pub fn reference_time(seed: u64) -> i64 {
    let mut rng = SeedRng::derive(seed, "reference_time");
    REFERENCE_BASE - 60 * rng.below(14 * 24 * 60) as i64
}

/// Midnight UTC at or before `t`.
pub fn day_start(t: i64) -> i64 {
    t - t.rem_euclid(86_400)
}

/// The wall clock, for objects tests add "now".
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(REFERENCE_BASE)
}

pub const FIRST_NAMES: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sofia", "Lucas", "Mia", "Elijah",
    "Hana", "Yuto", "Aiko", "Haruto", "Lena", "Jonas", "Marie", "Felix", "Chloé", "Louis",
    "Giulia", "Matteo", "Lucía", "Mateo", "Freya", "Oscar", "Sigrún", "Gunnar", "Fatima", "Yousef",
    "Noura", "Omar", "Priya", "Arjun", "Zoe", "Isaac", "Ines", "Tomás", "Ava", "Ethan",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Watanabe",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Dubois",
    "Martin",
    "Rossi",
    "Bianchi",
    "Fernández",
    "López",
    "Taylor",
    "Evans",
    "Jónsdóttir",
    "Sigurðsson",
    "Al-Sabah",
    "Al-Mutairi",
    "Patel",
    "Kim",
    "Nguyen",
    "O'Brien",
    "Jensen",
    "Novak",
    "Costa",
    "Moreau",
];

pub const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "inbox.example",
    "post.example",
];

/// A made-up person, stored as small indices so millions of them stay cheap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person {
    pub first: u16,
    pub last: u16,
    pub domain: u8,
    /// Distinguishes namesakes in the email address.
    pub tag: u16,
}

impl Person {
    pub fn random(rng: &mut SeedRng) -> Person {
        Person {
            first: rng.below(FIRST_NAMES.len() as u64) as u16,
            last: rng.below(LAST_NAMES.len() as u64) as u16,
            domain: rng.below(EMAIL_DOMAINS.len() as u64) as u8,
            tag: rng.below(1000) as u16,
        }
    }

    pub fn name(&self) -> String {
        format!(
            "{} {}",
            FIRST_NAMES[self.first as usize], LAST_NAMES[self.last as usize]
        )
    }

    pub fn email(&self) -> String {
        let ascii = |s: &str| -> String {
            s.chars()
                .filter_map(|c| match c {
                    'é' => Some('e'),
                    'ú' | 'ü' => Some('u'),
                    'ó' | 'ö' => Some('o'),
                    'á' => Some('a'),
                    'í' => Some('i'),
                    'ð' => Some('d'),
                    c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        };
        format!(
            "{}.{}{}@{}",
            ascii(FIRST_NAMES[self.first as usize]),
            ascii(LAST_NAMES[self.last as usize]),
            self.tag,
            EMAIL_DOMAINS[self.domain as usize]
        )
    }
}

/// Things a small business sells, for descriptions and line items.
pub const PRODUCTS: &[&str] = &[
    "Ceramic pour-over set",
    "Annual membership",
    "Monthly subscription",
    "Consulting session (1h)",
    "Workshop ticket",
    "Gift card",
    "Linen apron",
    "Espresso beans 1kg",
    "Sourdough starter kit",
    "Handmade notebook",
    "Repair service",
    "Delivery fee",
    "Walnut cutting board",
    "Online course access",
    "Event deposit",
    "Tea sampler",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_independent() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = SeedRng::derive(42, "stripe");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = SeedRng::derive(42, "stripe");
                move |_| r.next_u64()
            })
            .collect();
        let c = SeedRng::derive(42, "paypal").next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
        assert_ne!(SeedRng::derive(43, "stripe").next_u64(), a[0]);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = SeedRng::new(7);
        for _ in 0..10_000 {
            let x = r.range(-3, 3);
            assert!((-3..=3).contains(&x));
            let y = r.log_uniform(50, 50_000);
            assert!((50..=50_000).contains(&y));
            assert!((0.0..1.0).contains(&r.unit()));
        }
        assert_eq!(r.object_id("ch_").len(), 27);
    }

    #[test]
    fn reference_time_is_fixed_per_seed() {
        assert_eq!(reference_time(1), reference_time(1));
        assert!(
            reference_time(1) <= REFERENCE_BASE && reference_time(1) > REFERENCE_BASE - 15 * 86_400
        );
        assert_eq!(day_start(REFERENCE_BASE), REFERENCE_BASE - 12 * 3600);
    }

    #[test]
    fn emails_are_ascii() {
        let mut r = SeedRng::new(1);
        for _ in 0..500 {
            let e = Person::random(&mut r).email();
            assert!(e.is_ascii() && e.contains('@'), "{e}");
        }
    }
}
