;;;; RUN: serve a Clack application with c10k.
;;;;
;;;; A request without a body is answered on the loop thread, straight from
;;;; the application's response. A request with a body is deferred and its
;;;; application runs on a worker thread, reading :RAW-BODY as the client
;;;; sends it (the loop thread is the one delivering it). A delayed
;;;; response is answered through the deferred reply, so its writer works
;;;; from any thread.

(in-package #:clack.handler.c10k)

(defun call-app (app env)
  "APP's response to ENV. APP may be a symbol, looked up at each request."
  (funcall app env))

(defun fail (reply failure debug)
  "Reports FAILURE (a condition and its backtrace) and answers 500 on REPLY."
  (let ((request (c10k:reply-request reply)))
    (c10k::report-text failure "application failed on ~A ~A"
                       (c10k:request-method request) (c10k:request-target request))
    (c10k::fail-request request (and debug failure))))

(defun answer-on-worker (app env reply debug)
  "Runs APP on ENV and answers REPLY; on a worker thread."
  (multiple-value-bind (response failure)
      (c10k::call-capturing-backtrace (lambda () (answer-reply reply (call-app app env))))
    (declare (ignore response))
    (when failure (fail reply failure debug))))

(defun refuse-responder (response)
  (error "The application made a WebSocket for this request and then answered ~S: ~
          call START-CONNECTION instead." response))

(defun inline-answer (request response websocket)
  "Answers REQUEST with RESPONSE on the loop thread; a delayed response
runs here, with a deferred reply, or, if the application made a WEBSOCKET
for the request, without (its function accepts the upgrade)."
  (cond ((not (functionp response)) (respond-now request response))
        (websocket (funcall response #'refuse-responder))
        (t (answer-reply (c10k:defer-reply request) response))))

(defun request-handler (app workers)
  "The c10k handler serving APP: requests without a body inline, the others
on WORKERS. The environment is built first: it reads the header fields
once, and whether a body follows is then read from them."
  (let ((empty (c10k::make-empty-body-stream)))
    (lambda (request)
      (multiple-value-bind (env body-p)
          (make-env request empty (c10k:server-address c10k::*server*))
        (if body-p
            (let ((reply (progn (setf (getf env :raw-body) (c10k:request-body-stream request))
                                (c10k::%request-reply request)))
                  (debug (c10k::http-server-debug c10k::*server*))
                  (report-stream c10k::*report-stream*))
              (submit workers (lambda ()
                                (let ((c10k::*report-stream* report-stream))
                                  (answer-on-worker app env reply debug)))))
            (let ((clack.handler.c10k.websocket::*made* (list nil)))
              (inline-answer request (call-app app env)
                             (car clack.handler.c10k.websocket::*made*)))))
      (values))))

(defun run (app &rest options &key (address "127.0.0.1") (port 5000) loops debug access-log
                                   (worker-threads 8) on-ready stop-signals
                                   max-body-bytes keepalive-timeout-ms backlog max-connections
                                   reuse-port &allow-other-keys)
  "Serves the Clack application APP (a function of the environment plist, or
a symbol naming one, looked up at each request so that redefining it takes
effect at once) on ADDRESS:PORT until stopped, on the calling thread, and
returns the c10k server after it stopped. Clack's clackup calls it (for
:SERVER :C10K, on a thread of its own that clack:stop ends); the server
also stops from C10K:STOP-SERVER (ON-READY receives the server once it
listens) and, with STOP-SIGNALS (:INT, :TERM), on those signals.

Requests without a body are answered on the loop's thread (with LOOPS, on
the library's LOOPS threads, several at once); requests with a body run
APP on one of WORKER-THREADS Lisp threads, where :RAW-BODY streams as the
client sends it. A condition in APP is reported with its backtrace on
*ERROR-OUTPUT* and answered 500, with the backtrace as text when DEBUG is
true. ACCESS-LOG is as for C10K:START-HTTP-SERVER; MAX-BODY-BYTES,
KEEPALIVE-TIMEOUT-MS, BACKLOG, MAX-CONNECTIONS and REUSE-PORT set the
library's settings of those names. Other options (Clack passes some, such
as :USE-THREAD) are ignored."
  (declare (ignore options))
  (let ((workers (start-workers worker-threads
                                `((*standard-output* . ,*standard-output*)
                                  (*error-output* . ,*error-output*)))))
    (unwind-protect
         (c10k:serve :host address :port port :loops loops :debug debug
                     :access-log access-log :stream-bodies t
                     :handler (request-handler app workers)
                     :on-ready on-ready :stop-signals stop-signals
                     :max-body-bytes max-body-bytes :keepalive-timeout-ms keepalive-timeout-ms
                     :backlog backlog :max-connections max-connections :reuse-port reuse-port)
      (stop-workers workers))))

(defun stop (server)
  "Stops a server RUN returned or gave to ON-READY."
  (c10k:stop-server server))
