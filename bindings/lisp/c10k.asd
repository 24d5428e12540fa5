;;;; ASDF systems of the Common Lisp binding of c10k.

(defsystem "c10k"
  :description "Serve 10,000+ connections and HTTP/1.1 from Common Lisp through libc10k."
  :license "MIT OR Apache-2.0"
  :version "0.2.0"
  :depends-on ("cffi" "bordeaux-threads" "babel" "alexandria")
  :pathname "src/"
  :serial t
  :components ((:file "package")
               (:file "library")
               (:file "ffi")
               (:file "abi")
               (:file "conditions")
               (:file "bytes")
               (:file "header-block")
               (:file "loop")
               (:file "signals")
               (:file "registry")
               (:file "multi-loop")
               (:file "request")
               (:file "http")
               (:file "response")
               (:file "body-stream")
               (:file "websocket")
               (:file "tcp")
               (:file "serve")
               (:file "stats"))
  :in-order-to ((test-op (test-op "c10k/tests"))))

(defsystem "c10k/tests"
  :description "Tests of the c10k binding over real sockets on 127.0.0.1."
  :depends-on ("c10k" "clack-handler-c10k" "fiveam" "bordeaux-threads" "babel")
  :pathname "tests/"
  :serial t
  :components ((:file "package")
               (:file "client")
               (:file "header-drift")
               (:file "http")
               (:file "deferred")
               (:file "concurrency")
               (:file "tcp")
               (:file "lifecycle")
               (:file "multi-loop")
               (:file "clack")
               (:file "request-target")
               (:file "streaming")
               (:file "websocket")
               (:file "examples"))
  :perform (test-op (op c) (symbol-call :c10k/tests :run-tests)))
