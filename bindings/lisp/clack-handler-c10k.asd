;;;; The Clack handler of c10k: (clack:clackup app :server :c10k) finds it
;;;; by this name; (clack.handler.c10k:run app) works without Clack.

(defsystem "clack-handler-c10k"
  :description "Clack handler serving Lack applications with libc10k."
  :license "MIT OR Apache-2.0"
  :version "0.1.0"
  :depends-on ("c10k" "bordeaux-threads" "babel" "alexandria")
  :pathname "clack/"
  :serial t
  :components ((:file "package")
               (:file "workers")
               (:file "env")
               (:file "response")
               (:file "websocket")
               (:file "handler")))
