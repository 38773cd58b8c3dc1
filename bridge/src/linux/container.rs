//! What the pipeline container needs from its host to run a Linux board's
//! job: `vlab job` in the container reaches the board with `ssh`, so the
//! board's folder (its board.toml), the key and known_hosts board.toml
//! names, and, for a board of another architecture than the image's, the
//! tarball folder of `scripts/build-targets.sh`, are mounted read-only.
//! Each mount is a Docker volume string, `host:container:ro`, as the Nomad
//! job's `volumes` variable takes them (deploy/nomad/).

use std::path::{Path, PathBuf};

use super::def::LinuxBoardDef;

/// Where the image keeps its board folders (deploy/docker/Dockerfile's
/// `VLAB_BOARDS_DIR`).
const BOARDS: &str = "/opt/vlab/boards";

/// The home of the image's `vlab` user, for board.toml's `~/` paths.
const HOME: &str = "/home/vlab";

/// Where an installed vlab looks for tarball folders: `dist/` beside its
/// `bin/` folder (linux::bundle).
const DIST: &str = "/opt/vlab/dist";

/// The read-only mounts a container running `board`'s jobs needs. `dist`
/// is the tarball folder for the board's architecture, when the image's
/// own vlab is not of that architecture.
pub fn volumes(board: &LinuxBoardDef, dist: Option<&Path>) -> Vec<String> {
    let folder = board
        .dir
        .file_name()
        .map_or_else(|| board.name.clone().into(), PathBuf::from);
    let dir = std::path::absolute(&board.dir).unwrap_or_else(|_| board.dir.clone());
    let mut mounts = vec![mount(&dir, &Path::new(BOARDS).join(&folder))];
    let launch = &board.launch;
    for path in [&launch.identity_file, &launch.known_hosts]
        .into_iter()
        .flatten()
    {
        if let Some(inside) = outside_the_folder(path) {
            mounts.push(mount(&board.resolve(path), &inside));
        }
    }
    if let Some(dist) = dist
        && let Some(name) = dist.file_name()
    {
        mounts.push(mount(dist, &Path::new(DIST).join(name)));
    }
    mounts
}

/// Where the container sees a board.toml path that is not inside the
/// board's folder (which is mounted whole): `~/` in the image's home, an
/// absolute path at itself. `None` for a path relative to the folder.
fn outside_the_folder(path: &Path) -> Option<PathBuf> {
    match path.strip_prefix("~") {
        Ok(rest) => Some(Path::new(HOME).join(rest)),
        Err(_) if path.is_absolute() => Some(path.to_path_buf()),
        Err(_) => None,
    }
}

fn mount(host: &Path, container: &Path) -> String {
    format!("{}:{}:ro", host.display(), container.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(launch: &str) -> LinuxBoardDef {
        LinuxBoardDef::load(
            Path::new("/srv/lab/boards/rpi5"),
            &format!(
                "name = \"rpi5\"\ndescription = \"Raspberry Pi 5\"\n[launch]\nkind = \"ssh\"\n\
                 host = \"rpi5.lab\"\narch = \"aarch64\"\nengines = [\"ort\"]\n{launch}"
            ),
        )
        .unwrap()
    }

    #[test]
    fn the_folder_the_keys_outside_it_and_the_tarball_are_mounted() {
        let home = std::env::var("HOME").unwrap();
        let rpi5 =
            board("identity_file = \"~/.ssh/lab\"\nknown_hosts = \"/etc/lab/known_hosts\"\n");
        let dist = Path::new("/srv/lab/dist/vlab-0.1.0-aarch64-linux");
        assert_eq!(
            volumes(&rpi5, Some(dist)),
            [
                "/srv/lab/boards/rpi5:/opt/vlab/boards/rpi5:ro".to_owned(),
                format!("{home}/.ssh/lab:/home/vlab/.ssh/lab:ro"),
                "/etc/lab/known_hosts:/etc/lab/known_hosts:ro".to_owned(),
                "/srv/lab/dist/vlab-0.1.0-aarch64-linux:/opt/vlab/dist/vlab-0.1.0-aarch64-linux:ro"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn a_key_inside_the_board_folder_comes_with_it() {
        let rpi5 = board("identity_file = \"id_ed25519\"\n");
        assert_eq!(
            volumes(&rpi5, None),
            ["/srv/lab/boards/rpi5:/opt/vlab/boards/rpi5:ro"]
        );
    }
}
