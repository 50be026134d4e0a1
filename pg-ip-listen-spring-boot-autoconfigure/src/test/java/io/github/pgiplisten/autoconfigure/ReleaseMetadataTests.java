package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * What Maven Central asks of every published POM, and the license a company checks first: the parent POM names the
 * project, its URL, the Apache License 2.0, its developers and its source repository (each module inherits them), each
 * published module has a name and a description of its own, and the repository holds the license's text. (Whether
 * each published module's jar, sources and Javadoc build, Javadoc without a warning, is checked by {@code .ci/run}'s
 * release step.)
 */
class ReleaseMetadataTests {

    private static final Path ROOT = Path.of("..");

    private static final List<String> PUBLISHED = List.of(
            "pg-ip-listen-core",
            "pg-ip-listen-spring-boot-autoconfigure",
            "pg-ip-listen-spring-boot-starter",
            "pg-ip-listen-test",
            "pg-ip-listen-test-support");

    @Test
    void theParentPomHasWhatMavenCentralRequiresAndTheApacheLicense() throws Exception {
        Element project = pom(ROOT.resolve("pom.xml"));
        assertThat(text(project, "name")).isNotBlank();
        assertThat(text(project, "description")).isNotBlank();
        assertThat(text(project, "url")).startsWith("https://github.com/");
        assertThat(text(child(child(project, "licenses"), "license"), "name")).isEqualTo("Apache License, Version 2.0");
        assertThat(text(child(child(project, "developers"), "developer"), "name"))
                .isNotBlank();
        Element scm = child(project, "scm");
        assertThat(text(scm, "connection")).startsWith("scm:git:");
        assertThat(text(scm, "url")).isEqualTo(text(project, "url"));
        assertThat(project.getAttribute("child.project.url.inherit.append.path"))
                .as("modules inherit the project's URL as it is")
                .isEqualTo("false");
    }

    @Test
    void everyPublishedModuleHasANameAndADescriptionAndIsPartOfTheReleaseProfile() throws Exception {
        for (String module : PUBLISHED) {
            Element project = pom(ROOT.resolve(module).resolve("pom.xml"));
            assertThat(text(project, "name")).as(module).startsWith("pg-ip-listen");
            assertThat(text(project, "description")).as(module).isNotBlank();
            assertThat(Files.readString(ROOT.resolve(module).resolve("pom.xml"), StandardCharsets.UTF_8))
                    .as("%s is not left out of the release", module)
                    .doesNotContain("<maven.javadoc.skip>true")
                    .doesNotContain("<maven.deploy.skip>true");
        }
    }

    @Test
    void theRepositoryHoldsTheLicenseTextAndAChangelog() throws IOException {
        assertThat(Files.readString(ROOT.resolve("LICENSE"), StandardCharsets.UTF_8))
                .contains("Apache License")
                .contains("Version 2.0, January 2004")
                .contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION");
        assertThat(Files.readString(ROOT.resolve("CHANGELOG.md"), StandardCharsets.UTF_8))
                .contains("## [Unreleased]")
                .contains("Keep a Changelog");
    }

    private static Element pom(Path file) throws Exception {
        Document document =
                DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
        return document.getDocumentElement();
    }

    /** The first direct child element of that name. */
    private static Element child(Element parent, String name) {
        for (var node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element && element.getTagName().equals(name)) {
                return element;
            }
        }
        throw new AssertionError("no <" + name + "> in <" + parent.getTagName() + ">");
    }

    private static String text(Element parent, String name) {
        return child(parent, name).getTextContent().trim();
    }
}
