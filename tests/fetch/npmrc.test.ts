import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import {
  credentialFor,
  DEFAULT_REGISTRY,
  loadNpmConfig,
  nerfDart,
  parseNpmrc,
  resolveNpmConfig,
  substituteEnv,
} from "../../src/fetch/npmrc.ts";

test("parseNpmrc: comments, sections, quotes, inline comments, arrays", () => {
  const text = [
    "; a comment",
    "# another",
    "",
    "[section]",
    "registry = https://npm.example.com/  ; trailing comment",
    'quoted="a;b#c"',
    "escaped=a\\;b",
    "ca[]=one",
    "bare-flag",
    "  @acme:registry=https://npm.acme.dev  ",
  ].join("\r\n");
  const map = parseNpmrc(text, {});
  assert.equal(map.get("registry"), "https://npm.example.com/");
  assert.equal(map.get("quoted"), "a;b#c");
  assert.equal(map.get("escaped"), "a;b");
  assert.equal(map.get("ca"), "one");
  assert.equal(map.get("bare-flag"), "true");
  assert.equal(map.get("@acme:registry"), "https://npm.acme.dev");
});

test("substituteEnv: set, unset, optional, escaped, in keys too", () => {
  const env = { TOKEN: "t0k", HOST: "npm.acme.dev" };
  const warnings: string[] = [];
  assert.equal(substituteEnv("${TOKEN}", env), "t0k");
  assert.equal(substituteEnv("a-${MISSING?}-b", env, warnings), "a--b");
  assert.deepEqual(warnings, []);
  assert.equal(substituteEnv("${MISSING}", env, warnings, ".npmrc:3"), "${MISSING}");
  assert.match(warnings[0], /\.npmrc:3: environment variable MISSING is not set/);
  assert.equal(substituteEnv("\\${TOKEN}", env), "${TOKEN}");
  assert.equal(substituteEnv("\\\\${TOKEN}", env), "\\t0k");
  const map = parseNpmrc("//${HOST}/:_authToken=${TOKEN}\n", env);
  assert.equal(map.get("//npm.acme.dev/:_authToken"), "t0k");
});

test("resolveNpmConfig: registries, scopes and the three kinds of credentials", () => {
  const env = { NPM_TOKEN: "secret-token" };
  const config = resolveNpmConfig([parseNpmrc(
    [
      "registry=http://127.0.0.1:4873",
      "@acme:registry=https://npm.acme.dev/api/npm/",
      "//npm.acme.dev/api/npm/:_authToken=${NPM_TOKEN}",
      "//basic.example.com/:_auth=dXNlcjpwYXNz",
      `//up.example.com:8443/:username=alice`,
      `//up.example.com:8443/:_password=${btoa("s3cret")}`,
      "//NPM.Upper.example/:_authToken=upper",
    ].join("\n"),
    env,
  )]);
  assert.equal(config.registry, "http://127.0.0.1:4873/");
  assert.deepEqual(config.scopes, { "@acme": "https://npm.acme.dev/api/npm/" });
  assert.equal(
    credentialFor(config, "https://npm.acme.dev/api/npm/@acme/a/-/a-1.0.0.tgz")?.header(),
    "Bearer secret-token",
  );
  // Same host, outside the credential's path: no credential.
  assert.equal(credentialFor(config, "https://npm.acme.dev/other/a"), undefined);
  assert.equal(credentialFor(config, "https://basic.example.com/a")?.header(), "Basic dXNlcjpwYXNz");
  assert.equal(
    credentialFor(config, "https://up.example.com:8443/a")?.header(),
    `Basic ${btoa("alice:s3cret")}`,
  );
  // Port is part of the host: no credential on another port.
  assert.equal(credentialFor(config, "https://up.example.com/a"), undefined);
  assert.equal(credentialFor(config, "https://npm.upper.example/x")?.header(), "Bearer upper");
});

test("legacy top-level _authToken belongs to the default registry only", () => {
  const config = resolveNpmConfig([parseNpmrc("registry=https://r.example/npm/\n_authToken=legacy\n", {})]);
  assert.equal(credentialFor(config, "https://r.example/npm/x")?.header(), "Bearer legacy");
  assert.equal(credentialFor(config, "https://registry.npmjs.org/x"), undefined);
});

test("credentials never show up when the config is printed or serialized", () => {
  const config = resolveNpmConfig([parseNpmrc("//h.example/:_authToken=TOPSECRET\n", {})]);
  assert.equal(config.credentials.length, 1);
  for (
    const rendered of [
      JSON.stringify(config),
      inspect(config, { depth: 10, showHidden: true }),
      String(config.credentials[0]),
    ]
  ) {
    assert.ok(!rendered.includes("TOPSECRET"), rendered);
  }
  assert.match(JSON.stringify(config), /h\.example/);
});

test("nerfDart keeps host:port and the directory path", () => {
  assert.equal(nerfDart("https://registry.npmjs.org/"), "//registry.npmjs.org/");
  assert.equal(nerfDart("http://127.0.0.1:4873/a/-/a-1.0.0.tgz"), "//127.0.0.1:4873/a/-/");
  assert.equal(nerfDart("https://npm.acme.dev/api/npm/pkg"), "//npm.acme.dev/api/npm/");
});

test("loadNpmConfig precedence: --registry > env > project > user", async () => {
  const dir = await mkdtemp(join(tmpdir(), "silo-npmrc-"));
  try {
    const user = join(dir, "user.npmrc");
    const project = join(dir, "project");
    await writeFile(
      user,
      "registry=https://user.example/\n//user.example/:_authToken=${UTOKEN}\n@u:registry=https://u.example/\n",
    );
    await mkdir(project);
    const env = { UTOKEN: "u-token" };

    let config = await loadNpmConfig({ projectDir: project, userConfig: user, env });
    assert.equal(config.registry, "https://user.example/");
    assert.deepEqual(config.files, [user]);
    assert.equal(credentialFor(config, "https://user.example/a")?.header(), "Bearer u-token");

    await writeFile(join(project, ".npmrc"), "registry=https://project.example\n");
    config = await loadNpmConfig({ projectDir: project, userConfig: user, env });
    assert.equal(config.registry, "https://project.example/");
    assert.equal(config.scopes["@u"], "https://u.example/", "user scopes survive a project file");
    assert.equal(config.files.length, 2);

    config = await loadNpmConfig({
      projectDir: project,
      userConfig: user,
      env: { ...env, NPM_CONFIG_REGISTRY: "https://env.example" },
    });
    assert.equal(config.registry, "https://env.example/");
    config = await loadNpmConfig({
      projectDir: project,
      userConfig: user,
      env: { ...env, npm_config_registry: "https://env.example" },
      registry: "http://127.0.0.1:1/",
    });
    assert.equal(config.registry, "http://127.0.0.1:1/");

    // No files at all: npm's default registry, no warnings.
    config = await loadNpmConfig({ projectDir: join(dir, "none"), userConfig: null, env: {} });
    assert.equal(config.registry, DEFAULT_REGISTRY);
    assert.deepEqual(config.warnings, []);

    // npm_config_userconfig picks the user file when no path is passed.
    config = await loadNpmConfig({
      projectDir: join(dir, "none"),
      env: { ...env, npm_config_userconfig: user },
    });
    assert.equal(config.registry, "https://user.example/");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
