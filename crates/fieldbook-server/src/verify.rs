//! `fieldbook-server verify`: is a signed visit report intact?

use std::path::Path;

use anyhow::{Context, bail};
use fieldbook_domain::evidence::{SealCheck, Verdict, check_pdf_seal, short_code};
use fieldbook_server_db::{Database, LedgerCheck};

/// Checks a report PDF or a report hash against the ledger and prints what it finds. Returns
/// whether the report is intact (and, with `ledger`, the ledger's chain sound).
pub async fn run(db: &dyn Database, report: &str, ledger: bool) -> anyhow::Result<bool> {
    let path = Path::new(report);
    let (hash, carried, seal) = if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let carried = fieldbook_report::signed_report_in_pdf(&bytes)?.with_context(|| {
            format!("{} carries no signed Fieldbook report (was it exported from a signed visit?)", path.display())
        })?;
        (carried.hash.clone(), Some(carried), Some(check_pdf_seal(&bytes)))
    } else if report.ends_with(".pdf") {
        bail!("there is no file {report}");
    } else {
        (report.to_owned(), None, None)
    };
    let mut intact = true;
    match db.check_report(&hash).await? {
        None => {
            println!("NOT IN THE LEDGER: no signed report {} is held by this server", short_code(&hash));
            if let Some(carried) = &carried {
                let verdict = fieldbook_domain::evidence::verify(carried, |_| None, |_| false);
                if let Verdict::Tampered { reasons } = verdict {
                    // Without the server's images only the document and signature can be checked.
                    let own: Vec<_> = reasons.iter().filter(|r| !r.contains("is missing")).collect();
                    for reason in &own {
                        println!("  - {reason}");
                    }
                }
            }
            intact = false;
        }
        Some(check) => {
            let entry = &check.entry;
            if let Some(carried) = &carried
                && *carried != check.report
            {
                println!("TAMPERED: the report this PDF carries differs from the one the ledger holds");
                intact = false;
            }
            match &check.verdict {
                Verdict::Intact { hash, code, technician, device_id, signed_at } => {
                    println!(
                        "INTACT: report {code} of work order {} (visit version {})",
                        entry.work_order_number, entry.visit_version
                    );
                    println!("  signed by {technician} on device {device_id} at {}", signed_at.to_rfc3339());
                    println!("  SHA-256 {hash}");
                }
                Verdict::RevokedDevice { hash, device_id, signed_at } => {
                    println!(
                        "SIGNED BY A REVOKED DEVICE: report {} of work order {} is unchanged, but device {device_id}, which signed it at {}, has since been revoked",
                        short_code(hash),
                        entry.work_order_number,
                        signed_at.to_rfc3339()
                    );
                    intact = false;
                }
                Verdict::Tampered { reasons } => {
                    println!("TAMPERED: report {} of work order {}", short_code(&entry.hash), entry.work_order_number);
                    for reason in reasons {
                        println!("  - {reason}");
                    }
                    intact = false;
                }
            }
            println!(
                "  ledger entry {} (received {}), chain {}",
                entry.seq,
                entry.received_at.to_rfc3339(),
                entry.chain
            );
            if let Some(previous) = &entry.previous {
                println!("  amends report {}", short_code(previous));
            }
            print_facts(&check.report.document);
        }
    }
    if let Some(seal) = &seal {
        intact &= check_pages(db, seal, &hash).await?;
    }
    if ledger {
        match db.check_ledger().await? {
            LedgerCheck::Sound { entries } => println!("ledger: {entries} entries, chain sound"),
            LedgerCheck::Broken { seq, reason } => {
                println!("LEDGER BROKEN at entry {seq}: {reason}");
                intact = false;
            }
        }
    }
    if seal.is_some() {
        println!("{}", if intact { "RESULT: the PDF is intact" } else { "RESULT: the PDF is NOT intact (see above)" });
    }
    Ok(intact)
}

/// Whether a PDF's pages are as an enrolled device typeset and sealed them from the report it
/// carries (`hash`), printing what was found.
async fn check_pages(db: &dyn Database, seal: &SealCheck, hash: &str) -> anyhow::Result<bool> {
    let seal = match seal {
        SealCheck::Sealed(seal) => seal,
        SealCheck::Broken(reason) => {
            println!("PAGES CHANGED: {reason}");
            return Ok(false);
        }
        SealCheck::Unsealed => {
            println!(
                "PAGES NOT SEALED: this PDF has no Fieldbook seal (saved again by another program, or exported \
                 before seals); only the signed record it carries can be checked, not what its pages show"
            );
            return Ok(false);
        }
    };
    if seal.report_hash != hash {
        println!("PAGES CHANGED: the seal vouches for report {}, not the one attached", short_code(&seal.report_hash));
        return Ok(false);
    }
    let at = seal.sealed_at.to_rfc3339();
    match db.device_key(&seal.device_id).await? {
        Some((Some(key), revoked)) if key.eq_ignore_ascii_case(&seal.public_key) => {
            println!("PAGES: exactly as device {} typeset and sealed them at {at}", seal.device_id);
            if let Some(revoked) = revoked {
                println!("  but that device was revoked at {}: the seal shows only who held it", revoked.to_rfc3339());
                return Ok(false);
            }
            Ok(true)
        }
        Some((Some(_), _)) => {
            println!("PAGES NOT VOUCHED FOR: sealed with a key device {} did not enroll with", seal.device_id);
            Ok(false)
        }
        Some((None, _)) => {
            println!(
                "PAGES NOT VOUCHED FOR: device {} enrolled before devices had keys, so its seal cannot be checked",
                seal.device_id
            );
            Ok(false)
        }
        None => {
            println!(
                "PAGES NOT VOUCHED FOR: sealed by device {}, which is not enrolled on this server",
                seal.device_id
            );
            Ok(false)
        }
    }
}

/// What the signed report vouches for, for a reader to compare with a PDF's pages.
fn print_facts(document: &fieldbook_domain::evidence::ReportDocument) {
    let visit = &document.visit;
    let abnormal = visit.results.iter().filter(|r| r.assessment == fieldbook_domain::Assessment::Abnormal).count();
    println!("  signed facts:");
    println!(
        "    checklist answers {} ({abnormal} abnormal), fault records {}, photos {}",
        visit.results.len(),
        visit.faults.len(),
        visit.photos.len()
    );
    for part in &visit.parts {
        let billing = match &part.billing {
            fieldbook_domain::PartBilling::Warranty => "warranty".to_owned(),
            fieldbook_domain::PartBilling::Contract => "contract".to_owned(),
            fieldbook_domain::PartBilling::Paid { unit_price_cents } => {
                format!("paid at {}.{:02} each", unit_price_cents / 100, unit_price_cents % 100)
            }
        };
        println!("    part {} × {} ({}), {billing}", part.part_number, part.quantity, part.name);
    }
    if let Some(sign_off) = &visit.sign_off {
        println!(
            "    customer sign-off: {}, satisfaction {} of 5, \"{}\", at {}",
            sign_off.signer_name,
            u8::from(sign_off.satisfaction.clone()),
            sign_off.opinion,
            sign_off.signed_at.to_rfc3339()
        );
    }
}
