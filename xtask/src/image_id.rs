//! The syntax of image IDs: an AMI ID, a GCE image name, and the
//! `region:ami-…` list of an amazon-ebs artifact. `images` reads what it
//! built with them; the rules, the writers and `prune` judge IDs by them.

/// Splits an amazon-ebs artifact ID (`region:ami-…,region:ami-…`).
pub fn split_ami_id(id: &str) -> Vec<(String, String)> {
    id.split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(region, ami)| (region.trim().to_owned(), ami.trim().to_owned()))
        .collect()
}

/// Ok when `id` has the shape of an image ID of `cloud`; otherwise the
/// shape it should have.
pub fn check_image_id(cloud: &str, id: &str) -> Result<(), &'static str> {
    match cloud {
        "gce" if is_gce_image_name(id) => Ok(()),
        "gce" => Err("a GCE image name: a lower-case letter, then letters, digits and dashes"),
        _ if is_ami_id(id) => Ok(()),
        _ => Err("`ami-` and 8 or 17 lower-case hex digits"),
    }
}

/// `ami-` and 8 or 17 lower-case hex digits.
pub fn is_ami_id(id: &str) -> bool {
    id.strip_prefix("ami-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A GCE image name: a lower-case letter, then up to 62 of letters, digits
/// and dashes, not ending in a dash.
pub fn is_gce_image_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes() {
        assert!(is_ami_id("ami-0123abcd"));
        assert!(is_ami_id("ami-0123456789abcdef0"));
        assert!(!is_ami_id("ami-0123ABCD"));
        assert!(!is_ami_id("ami-123"));
        assert!(is_gce_image_name("os311-machine-image-1546300800"));
        assert!(!is_gce_image_name("Os311"));
        assert!(!is_gce_image_name("a-"));
    }
}
