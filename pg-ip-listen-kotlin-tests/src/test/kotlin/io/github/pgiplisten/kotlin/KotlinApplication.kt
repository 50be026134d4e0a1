package io.github.pgiplisten.kotlin

import org.springframework.boot.autoconfigure.SpringBootApplication

/** An application in Kotlin: its classes are final, so its configuration does not proxy bean methods. */
@SpringBootApplication(proxyBeanMethods = false)
class KotlinApplication
