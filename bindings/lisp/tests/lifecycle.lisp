;;;; Starting and stopping: ports, errors, blocking SERVE, stopping from
;;;; anywhere, and leaving nothing behind.

(in-package #:c10k/tests)

(in-suite c10k)

(defun refused-p (port)
  (handler-case (progn (http port "GET" "/") nil)
    (sb-bsd-sockets:connection-refused-error () t)))

(test clean-stop
  (let* ((server (c10k:start-http-server :port 0 :handler #'hello-handler))
         (port (c10k:server-port server)))
    (is (plusp port))
    (is (c10k:server-running-p server))
    (is (= 200 (http port "GET" "/")))
    (c10k:stop-server server)
    (is (not (c10k:server-running-p server)))
    (is (refused-p port))
    (c10k:stop-server server)
    (is (not (c10k:server-running-p server)))))

(test stop-right-after-start-still-frees-the-loop
  ;; A stop that comes before the loop thread's first turn must still let
  ;; that thread take the loop over and free it (no C10K_EWRONGTHREAD).
  (let ((log (make-string-output-stream)))
    (dotimes (i 20)
      (let ((server (let ((*error-output* log))
                      (c10k:start-http-server :port 0 :handler #'hello-handler))))
        (c10k:stop-server server)
        (is (not (c10k:server-running-p server)))
        (is (refused-p (c10k:server-port server)))))
    (is (string= "" (get-output-stream-string log)))))

(test address-in-use-is-a-c10k-error
  (with-http-server (server #'hello-handler)
    (let ((condition (handler-case (c10k:start-http-server :port (c10k:server-port server)
                                                           :handler #'hello-handler)
                       (c10k:c10k-error (c) c))))
      (is (typep condition 'c10k:c10k-error))
      (is (= c10k.ffi:+eaddrinuse+ (c10k:c10k-error-code condition)))
      (is (string= "C10K_EADDRINUSE" (c10k:c10k-error-name condition))))))

(test serve-blocks-on-the-calling-thread
  (let* ((ready (make-mailbox))
         (handler-threads '())
         (thread (bt:make-thread
                  (lambda ()
                    (c10k:serve :port 0
                                :handler (lambda (request)
                                           (push (bt:current-thread) handler-threads)
                                           (hello-handler request))
                                :on-ready (lambda (server) (mailbox-put ready server)))
                    :returned)
                  :name "serve"))
         (server (mailbox-take ready)))
    (is (= 200 (http (c10k:server-port server) "GET" "/")))
    (c10k:stop-server server)
    (is (eq :returned (bt:join-thread thread)))
    (is (equal (list thread) handler-threads))))

(test stop-from-a-handler
  (let (server)
    (setf server (c10k:start-http-server
                  :port 0 :handler (lambda (request)
                                     (declare (ignore request))
                                     (c10k:stop-server server)
                                     (values 200 nil "bye"))))
    (is (= 200 (http (c10k:server-port server) "GET" "/")))
    (loop repeat 100 while (c10k:server-running-p server) do (sleep 0.01))
    (is (not (c10k:server-running-p server)))))

(test open-handles-count-listener-and-connections
  (let (counts)
    (with-http-server (server (lambda (request)
                                (declare (ignore request))
                                (setf counts (multiple-value-list (c10k:open-handles c10k::*server*)))
                                (values 200 nil "")))
      (http (c10k:server-port server) "GET" "/"))
    (is (equal '(2 0) counts) "listener and one connection open during a request: ~S" counts)))

(test servers-sharing-a-port-with-reuse-port
  (let* ((first (c10k:start-http-server :port 0 :reuse-port t :handler (constantly 201)))
         (second (c10k:start-http-server :port (c10k:server-port first) :reuse-port t
                                         :handler (constantly 202))))
    (unwind-protect
         (let ((statuses (loop repeat 40
                               collect (http (c10k:server-port first) "GET" "/"))))
           (is (= (c10k:server-port first) (c10k:server-port second)))
           (is (subsetp statuses '(201 202)))
           (is (member 201 statuses))
           (is (member 202 statuses)))
      (c10k:stop-server first)
      (c10k:stop-server second))))

(test killing-the-loop-thread-still-closes-cleanly
  ;; The interrupt waits for the end of the turn instead of unwinding
  ;; through the library's frames, so the loop is freed, not left running.
  (let* ((log (make-string-output-stream))
         (server (let ((*error-output* log))
                   (c10k:start-http-server :port 0 :handler #'hello-handler)))
         (port (c10k:server-port server)))
    (is (= 200 (http port "GET" "/")))
    (bt:destroy-thread (c10k::server-thread server))
    (loop repeat 200 while (c10k:server-running-p server) do (sleep 0.01))
    (is (not (c10k:server-running-p server)))
    (is (refused-p port))
    (is (string= "" (get-output-stream-string log)))))
