"""Ask a real JVM what it made of its security properties: a single-file Java program (Java 11+
runs it from source) that prints ``key=value`` for each key, as ``java.security.Security`` holds it
after the JDK's java.security and any ``-Djava.security.properties`` file."""

from __future__ import annotations

#: The name cache keys (networkaddress.cache.*), in the order the program prints them.
NAME_CACHE_KEYS = ("networkaddress.cache.ttl", "networkaddress.cache.negative.ttl")

#: Show.java; its arguments are the keys. No single quote in it: a shell script can quote it.
PROGRAM = """\
public class Show {
    public static void main(String[] args) {
        for (String key : args) {
            System.out.println(key + "=" + java.security.Security.getProperty(key));
        }
    }
}
"""
