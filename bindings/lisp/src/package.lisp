;;;; Packages: C10K.FFI holds the raw declarations of include/c10k.h, C10K
;;;; the Lisp API built on them.

(defpackage #:c10k.ffi
  (:use #:cl)
  (:documentation "Raw CFFI declarations mirroring include/c10k.h one for one.
Each C function c10k_foo_bar is the Lisp function C10K-FOO-BAR, each
constant C10K_FOO is +FOO+. Definitions export themselves.")
  (:export #:*declarations* #:*library-path* #:load-library))

(defpackage #:c10k
  (:use #:cl #:c10k.ffi)
  (:documentation "Serve 10,000+ connections and HTTP/1.1 from Lisp with libc10k.
Callbacks (HTTP handlers, TCP events) run on the Lisp thread that runs the
server's loop: the thread START-HTTP-SERVER or START-TCP-SERVER creates, or
the caller of SERVE.")
  (:export
   ;; conditions
   #:c10k-error #:c10k-error-code #:c10k-error-name #:abi-mismatch
   ;; servers
   #:server #:start-http-server #:start-tcp-server #:serve #:stop-server
   #:server-port #:server-address #:server-running-p #:open-handles #:server-stats
   ;; requests
   #:request #:request-method #:request-target #:request-path #:request-query
   #:request-header #:request-headers #:request-body #:request-body-string
   #:request-peer #:request-keep-alive-p #:request-http-minor
   #:request-target-form #:request-scheme #:request-host #:request-port
   #:request-has-body-p #:request-body-stream #:body-aborted
   #:url-decode
   ;; deferred replies
   #:reply #:defer-reply #:send-reply #:reply-request #:reply-aborted-p
   ;; streamed replies
   #:start-reply #:write-reply #:end-reply #:abort-reply
   ;; WebSockets
   #:websocket #:websocket-request-p #:websocket-subprotocols #:accept-websocket
   #:ws-send #:ws-ping #:ws-close #:ws-broadcast #:ws-pause-read #:ws-resume-read
   #:websocket-open-p #:websocket-peer #:websocket-data
   ;; raw TCP
   #:connection #:connection-data #:connection-peer
   #:conn-write #:conn-close #:conn-abort #:conn-pause-read #:conn-resume-read
   #:conn-pending
   ;; versions
   #:library-version))
